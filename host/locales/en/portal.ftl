### The portal's words in English: complete for every page.
### Keys are grouped by page; `col-` are table headings, `field-` form fields (by the field's
### name, as in docs/limits.md), `error-` the API's error codes, `status-` the bundled
### workflow's statuses. Only vendor staff see the messages of the groups headed `Staff` and
### `Operators`; every other message must be in every language (the catalogue tests say so).

## Every page

portal-name = Customer Portal
skip-to-content = Skip to content
nav-main = Main
log-out = Log out
language-switch = Page language
script-attached = Attached:
sorry = Sorry
page-not-found = Page not found
request-refused = This request cannot be served
go-to-dashboard = Go to your dashboard
form-expired-title = Form expired
form-expired = This form has expired or did not come from this site. Go back, reload the page and try again.
back-to-requests = Back to requests
continue = Continue
submit = Submit
save = Save
send = Send
search = Search
filter = Filter
sort = Sort
next-page = Next page
thank-you = Thank you
welcome = Welcome.
email-placeholder = name@example.com

nav-dashboard = Dashboard
nav-queue = Queue
nav-saved-replies = Saved replies
nav-requests = Requests
nav-new-request = New request
nav-approvals = Approvals
nav-invitations = Invitations
nav-sites = Sites
nav-people = People
nav-quick-links = Quick links
nav-branding = Branding
nav-statuses = Statuses
nav-plugins = Plugins
nav-decisions = Decisions
nav-webhooks = Webhooks
nav-audit-log = Audit log
nav-mail = Mail
nav-notifications = Notifications
nav-preferences = Preferences
nav-sessions = Sessions

## Form fields

field-email = Email address
field-password = Password
field-current-password = Current password
field-new-password = New password
field-confirm-password = Confirm new password
field-given_name = Given name
field-surname = Surname
field-code = Verification code
field-token = Link or device token
field-name = Site name
field-domains = Email domain
field-subject = Subject
field-description = Description
field-body = Message
field-title = Title
field-url = URL
field-status = Status
field-q = Search
field-after = Page cursor
field-files = File name
field-input = Form

## Why a text was refused

input-refused = { $field }: { $why }
input-nul = NUL characters are not allowed.
input-too-long = at most { $max } characters allowed.
input-line-break = line breaks, tabs and other control characters are not allowed.
input-direction = right-to-left override and other direction controls are not allowed.
input-control = control characters are not allowed.
input-email = enter an address like name@example.com.
input-empty = enter a value.

## Errors, by the API's code

error-invalid_credentials = The email address or password is incorrect.
error-too_many_attempts = Too many attempts. Try again in { $seconds } seconds.
error-invalid_link = This link is invalid, has expired or has already been used. Ask for a new one.
error-wrong_code = That code is not correct. { $left ->
    [one] { $left } attempt left.
   *[other] { $left } attempts left.
}
error-code_unusable = That code has expired or was replaced, or too many wrong codes were entered. Send a new verification code.
error-password_rejected = The password does not meet the requirements.
error-unauthenticated = Please log in.
error-forbidden = You are not allowed to do that.
error-not_found = Not found.
error-conflict = Someone else changed this while you were looking at it. Reload it to see what changed, then try again.
error-not_eligible = We could not match this address to a customer with an active maintenance contract. Please contact your local representative.
error-awaiting_activation = Your account is waiting for activation. Your Site Administrator, or your local representative if you are the first person from your company, will activate it.
error-account_disabled = This account cannot sign in. Contact your Site Administrator or your local representative.
error-temporary_password_expired = Your temporary password has expired. Ask for the invitation to be sent again.
error-wrong_current_password = The current password is not correct.
error-site_not_eligible = Choose one of the listed sites.
error-invalid_language = Choose a language from the list.
error-invalid_time_zone = Choose a time zone from the list.
error-invalid_rating = Rate the request good or bad.
error-request_open = A request can be rated once it is closed.
error-nothing_to_change = Write a message, or choose a status or an assignee to change.
error-no_site = Only customers of a site can raise requests.
error-rule_unavailable = This rule cannot be checked right now, so nothing was changed. Please try again shortly.
error-database_unavailable = The service is briefly unavailable; nothing was changed. Please try again in a few seconds.
error-internal = Something went wrong on our side; nothing was changed. Please try again.
error-body_too_large = The request body is too large.
error-status-404 = There is nothing at this address.
error-status-405 = This address does not take that method.
error-status-408 = The request arrived too slowly and was closed. Try again.
error-status-413 = The request body is too large.
error-status-500 = Something went wrong on our side; nothing was changed. Please try again.
violation-confirmation-mismatch = The confirmation does not match the new password.

## Home, log in, verification

home-intro = Track your support requests and talk to our team in one place.
login-title = Log in
login-forgot = Forgot your password?
login-stay = Stay logged in
login-submit = Sign in
login-new = New to the portal?
join-now = Join now
notice-reset = Your password has been changed. Log in with the new password.
notice-created = Your account is ready. Log in with your new password.
notice-logged-out = You have logged out.
notice-ended = You have been signed out everywhere.
mfa-page-title = Verify your email
mfa-title = Multifactor Authentication
mfa-intro = To keep your account safe, we need to verify your email address
mfa-send = Send verification code
mfa-sent = We have sent a verification code to { $email }. Check your junk folder if it does not arrive.
mfa-remember = Don't ask again on this device for { $days } days
mfa-verify = Verify code
verified-title = Email address verified
verified-text = Thank you: your email address has been verified.

## Sign-up

join-email = Email
join-intro = Enter your email address. We will send you a link to verify it and sign up.
check-email-title = Check your email
signup-sent = Check your email: we have sent a message to that address with the next step.
signup-sent-link = The link in it works once and for 24 hours. Check your junk folder if it does not arrive.
email-validation-title = Email Validation
email-verified = Thank you: { $email } is verified.
email-verified-next = Continue to choose your password and tell us your name.
not-eligible = We could not match this address to a customer with an active maintenance contract. Please contact your local representative.
signup-title = Sign up
signup-create = Create
signup-intro = Create your account for { $email }.
account-created-title = Account created
account-created-text = Your account has been created. Log in to select your site.
choose-site-title = Select your site
choose-site-important = Important:
choose-site-warning = If your company does not appear in this list, please contact your local representative. Do not select an unrecognised company name because this will delay the sign-up process. If you have selected the wrong company, contact your local representative before you continue.
choose-site-none = No site is available for your address right now. Please contact your local representative.
site-chosen-1 = Thank you for signing up to the Customer Portal.
site-chosen-2 = If you are the first person in your company to sign up, contact your local representative and ask them to activate your account. By default you will be your company's Site Administrator.
site-chosen-3 = If your company already has a Site Administrator, contact that person to ask them to activate your account. They have been sent an email.
site-chosen-4 = We will email you when your account has been activated.

## Passwords and invitations

forgot-title = Forgot your password?
forgot-intro = Enter the email address of your account. We will send you a link to choose a new password.
reset-sent = If that address has an account, we have sent it a link to choose a new password. The link works for one hour.
reset-title = Choose a new password
invitation-title = Set your password
invitation-submit = Set password and continue
invitation-intro = Choose the password for { $email }.
change-password-title = Change your password
change-password-temporary = You signed in with a temporary password. Choose your own password to continue.
invalid-link-title = Link not valid
invalid-link-heading = This link cannot be used

## Dashboard

dashboard-title = Dashboard
dashboard-welcome = Welcome, { $name }.
dashboard-search-all = Search all requests
dashboard-search-mine = Search your requests
search-placeholder = Words or a request ID such as REQ-1042
dashboard-open = Open Requests
dashboard-queue-empty = The queue has no open requests.
dashboard-none-open = You have no open requests.
dashboard-all-open = All open requests
dashboard-to-queue = Go to the queue
dashboard-all-mine = All my requests
dashboard-quick-links = Quick Links
dashboard-no-links = No quick links yet.
dashboard-add-links = Add some.

## Request lists

col-request-id = Request ID
col-subject = Subject
col-status = Status
col-site = Site
col-requester = Requester
col-assignee = Assignee
col-updated = Last updated
col-actions = Actions
col-name = Name
col-email = Email
col-state = State
col-signed-up = Signed up
col-signed-in = Signed in
col-last-active = Last active
col-device = Device
col-address = Address
col-kind = Kind
requests-none = No requests match.
statuses-all = All statuses
statuses-open = All open
statuses-closed = All closed
sort-newest = Last updated, newest first
sort-oldest = Last updated, oldest first
sort-priority = Priority, most urgent first
unassigned = Unassigned
col-priority = Priority
priority-any = Any priority
priority-low = Low
priority-normal = Normal
priority-high = High
priority-urgent = Urgent
col-tags = Tags
col-tag = Tag
tags-none = None
tags-hint = Lowercase words (letters, digits, - and _), separated by spaces; at most 20.
status-open = Open
status-in-progress = In Progress
status-on-hold = On Hold
status-closed = Closed
status-unknown = { $key } (unknown status)

## A request

request-assigned-to = Assigned to
shared-title = Shared with
shared-none = Only you and your site's administrators see this request.
shared-none-staff = Only the requester and your site's administrators see this request.
shared-leave = Stop following this request
shared-remove = Stop sharing with { $name }
shared-add-label = Share with a colleague of { $site } (CC)
shared-add = Share
move-close = Close request
move-reopen = Reopen request
move-mark-as = Mark as { $status }
rating-title = How did we do?
rating-given-good = You rated this request good. You can change your rating.
rating-given-bad = You rated this request bad. You can change your rating.
rating-legend = Your rating
rating-good = Good, I'm satisfied
rating-bad = Bad, I'm not satisfied
rating-comment = Comment (optional)
rating-send = Send rating
conversation-title = Conversation
conversation-earlier = Earlier messages
conversation-newest = Newest messages
support-team = (support team)
reply-title = Reply
attach = Attach
attach-files = Attach files
files-limit = Up to { $count } files of at most { $size } each.
markdown-hint = Markdown works: **bold**, _italic_, lists, `code`, links.
timeline-title = Timeline
timeline-when = When
timeline-by = By
by-raised = { $name } (raised the request)
by-mapped = { $name } (mapped after a workflow change)
by-workflow = Workflow, after { $event }
moves-unavailable = The status cannot be changed right now: the workflow rule did not answer. Everything else works as usual; try again later.
new-request-hint = Include specific examples (dates, IDs, or screenshots): it helps our team respond more quickly and accurately.
notice-request-created = Your request has been sent. We have emailed you a confirmation.
notice-request-sent = Your message has been sent.
notice-request-noted = Internal note added. Customers never see it.
notice-request-status = Status changed.
notice-request-assigned = Assignment saved.
notice-request-updated = Changes saved.
notice-request-rated = Thank you for your rating.
notice-request-shared = Shared. They have been emailed a link to the request.
notice-request-unshared = No longer shared with them.
notice-request-sent-updated = Your reply has been sent and the request updated.
notice-request-noted-updated = Internal note added and the request updated. Customers never see the note.

## Notifications, preferences, sessions

notifications-title = Email notifications
notifications-intro = Choose which emails about your requests you get. Sign-in codes, password links and invitations are always sent.
notifications-legend = Email me
notifications-created = A confirmation when I raise a request
notifications-replies = Replies from the support team
notifications-status = Changes to the status of my requests
notifications-saved = Your choices are saved.
preferences-title = Preferences
preferences-language = Language
preferences-time-zone = Time zone
preferences-follow-browser = As my browser says
preferences-time-zone-browser = Times are shown in your browser's time zone.
preferences-time-zone-now = It is now { $now } there.
preferences-saved = Your preferences are saved.
sessions-title = Your sessions
sessions-none = No sessions.
session-label = session { $id }
session-persistent = Stay logged in
session-persistent-current = Stay logged in (this one)
session-browser = Browser session
session-browser-current = Browser session (this one)
sign-out = Sign out
sessions-everywhere = Everywhere
sign-out-everywhere = Sign out everywhere

## Site Administrators: approvals and invitations

approvals-title = Approve a New User Account
approvals-none = Nobody is waiting for activation.
account-review-title = Thank you
account-review-text = Your account has been created. Our staff will look at your sign-up and email you when you can log in.
approve = Approve
reject = Reject
invitations-none = No invitations are waiting.
invitation-state = Invited
resend = Resend
invite-welcome = Welcome email
invite-link = A sign-in link
invite-temporary = A temporary password
invite-title = Invite someone
invite-site-hint = The site's name, as on the Sites page.
invite = Invite
invitation-sent = Invitation sent to { $email }.
invitation-resent = Invitation sent again; the earlier one no longer works.

## Staff: the queue and the composer

views-label = Saved views
views-remove = Remove the view { $name }
views-save-label = Save these filters as a view
views-placeholder = e.g. My open requests
views-save = Save view
queue-site-hint = A site's name; empty for all sites.
queue-no-site = There is no site named "{ $name }".
queue-bad-filter = The list's `{ $field }` is not one this page offers: choose it from the list's filters.
assignee-anyone = Anyone
assignee-me = Me
watch-on-hint = You are emailed about customer replies to unassigned requests.
watch-stop = Stop watching the queue
watch-off-hint = Get an email when a customer replies to an unassigned request.
watch-start = Watch the queue
notice-watching = You will be emailed about customer replies to unassigned requests.
notice-not-watching = You will no longer be emailed about unassigned requests.
assign-to-me = Assign to me
composer-jump = Reply, add a note or change the status
rating-staff-good = Customer rating: Good
rating-staff-bad = Customer rating: Bad
note-badge = Internal note: only staff see this
via = via { $channel }
channel-email = email
channel-api = API
channel-portal = portal
original-email = original email
composer-title = Reply or note
composer-send-as = Send as
composer-reply = Reply to the customer
composer-note = Internal note
composer-note-warning = Internal note: only staff see it, and nobody is emailed.
composer-saved = Saved reply
composer-insert = Insert
composer-save-replies = Save replies
composer-save-replies-hint = you give often to insert them here.
composer-empty-hint = Leave the message empty to change only the status or the assignee.
status-unchanged = { $status } (unchanged)
composer-send-reply = Send reply
composer-add-note = Add internal note
timeline-allowed-by = Allowed by
moves-unavailable-staff = No moves offered: the workflow plugin failed to say which there are ({ $detail }). Operators see it on the plugin console.
timeline-rule-failed = No automatic action after { $event }: the workflow failed
timeline-priority = Priority: { $from } → { $to }
timeline-tags-added = Tags added: { $tags }
timeline-tags-removed = Tags removed: { $tags }
timers-title = Timers the workflow has set
timer-due = falls due
request-decisions = Plugin decisions about this request
notice-inserted = Inserted "{ $title }". Nothing is sent until you send it.
notice-files-again = Choose your files again: they were not kept.

## Operators: people, sites, audit, mail

reviews-title = Sign-ups to review
reviews-hint = The sign-up rule sent these to staff instead of deciding. Approve a sign-up for the site the person belongs to (its first person becomes its Site Administrator), or refuse it; the person is emailed either way.
reviews-none = No sign-up is waiting for review.
reviews-signed-up = Signed up { $when }.
reviews-reason = Why:
reviews-site = Site
reviews-refuse = Refuse
reviews-approved = Approved: { $email } can now sign in as a person of { $site }.
reviews-refused = Refused: { $email } has been told.
reviews-unknown-site = There is no site named “{ $name }”.

search-name-email = Search by name or email
people-none = Nobody yet.
people-no-match = Nobody matches.
col-role = Role
role-customer = customer
role-site_admin = site admin
role-agent = agent
role-operator = operator
state-active = active
state-invited = invited
state-awaiting_activation = awaiting activation
state-choosing_site = choosing site
state-disabled = disabled
state-rejected = rejected
people-role-title = Change a role
people-role-button = Change role
people-disable-title = Disable an account
people-disable-button = Disable
people-role-changed = Role of { $email } changed.
people-disabled = { $email } can no longer sign in.
sites-none = No sites yet.
sites-no-match = No site matches.
sites-search = Search by name or domain
sites-add-title = Add a site
sites-add = Add site
sites-all = All sites
sites-edit = Edit { $name }
sites-save = Save site
col-domains = Domains
col-addresses = Addresses
col-licences = Licences
site-domains = Email domains
site-domains-hint = Separated by commas, e.g. example.com, example.co.uk
site-addresses = Individual addresses
site-addresses-hint = For people on generic domains such as gmail.com; separated by commas.
site-maintenance = Maintenance until
site-licences = Active licences
site-licences-number = Active licences must be a whole number.
site-saved = Site { $name } saved.
site-added = Site { $name } added.
audit-none = No events match.
audit-search = Account or actor
audit-all-events = All events
col-event = Event
col-account = Account
col-detail = Detail
mail-undelivered = Undelivered email
mail-undelivered-none = Every email has been delivered or is still being tried.
mail-received = Received email
mail-bouncing-title = Mail an address again
mail-bouncing-clear = Clear the bouncing mark
mail-bouncing-cleared = Mail to { $email } is sent again.
mail-bouncing-unknown = No account with the address { $email } is marked as bouncing.
mail-received-none = No email has been read from the support mailbox.
col-given-up = Given up
col-to = To
col-attempts = Attempts
col-reason = Reason
col-received = Received
col-from = From
col-outcome = Outcome
col-why = Why
col-request = Request
remove = Remove
remove-named = Remove { $name }

## Operators: statuses, quick links, branding, the mail answer

statuses-active = The active workflow is
statuses-its = Its statuses:
col-key = Key
col-label = Label
col-counts-as = Counts as
counts-open = open
counts-closed = closed
statuses-unknown-title = Requests in statuses this workflow does not know
statuses-unknown-none = None: every request is in a status of the active workflow.
statuses-unknown-warning = These requests keep their old status and are shown as open until you map them to a status of the active workflow.
col-old-status = Old status
col-map-to = Map to
statuses-new-for = New status for { $status }
statuses-map = Map
links-hint = Links shown on the dashboard, each to the roles you choose.
col-seen-by = Seen by
links-add-title = Add a link
links-url-placeholder = https://docs.example.com or /requests/new
links-shown-to = Shown to
links-add = Add link
roles-customer = Customers
roles-site_admin = Site Administrators
roles-agent = Agents
roles-operator = Operators
wording-title = Answer to unknown senders
wording-intro = Mail to the support mailbox from an address with no active account opens nothing. Its sender gets this answer, at most once a day per address, followed by a link to join the portal. Blank lines separate paragraphs; leave it empty for the built-in wording.
wording-answer = Answer
wording-built-in = Built-in wording:
wording-save = Save the answer
wording-saved = Answer saved.
branding-hint = The name, accent colour and logo every page of the portal carries.
branding-name = Portal name
branding-accent = Accent colour
branding-accent-hint = As #rrggbb, dark enough for white text on it (contrast 4.5:1 at least).
branding-logo = Logo
branding-logo-hint = PNG, JPEG, GIF or WebP, at most 256 KiB; shown 32 px high.
branding-remove-logo = Remove the current logo
branding-save = Save branding

## Staff: saved replies

replies-hint = Answers you give often, to insert into a reply from the request page: your own, and the ones shared with all staff.
replies-none = No saved replies yet.
col-reply = Reply
col-for = For
replies-you = You
replies-all-staff = All staff
replies-save-title = Save a reply
replies-markdown = Markdown works, as in replies.
replies-share = Share with all staff
replies-save = Save reply
branding-accent-form = Give the accent colour as #rrggbb, for example #1f5fbf.
branding-accent-contrast = White text on #{ $hex } has a contrast of { $contrast }:1; choose a darker colour (4.5:1 at least).
branding-logo-large = The logo is larger than 256 KiB.
branding-logo-kind = The logo must be a PNG, JPEG, GIF or WebP picture.
branding-saved = Branding saved.
statuses-moved = Moved { $count ->
    [one] { $count } request
   *[other] { $count } requests
} from "{ $from }" to "{ $to }".

## Operators: the plugin console

plugins-hint-1 = Each slot's rule. Activating or rolling back applies on every server at once; see what the rules decided in
plugins-hint-2 = A plugin in shadow is asked every live decision of its slot too, without changing or slowing it, and its disagreements are listed.
plugins-install-title = Install a plugin
col-slot = Slot
plugins-component = Component (.wasm)
col-config = Config
plugins-config-hint = Checked by the plugin before anything is stored; empty means its defaults.
plugins-activate-now = Activate it now
plugins-compiling = Compiling: ready on { $ready } of { $servers } servers. Activating it waits until all are.
plugins-budget = Budget (optional)
plugins-budget-hint = Leave a field empty for the slot's default. A Python or JavaScript component needs more than a Rust one: see docs/plugins.md.
plugins-budget-instructions = Instructions per call
plugins-budget-memory = Memory per call (MiB)
plugins-budget-output = Largest answer (KiB)
plugins-budget-backstop = Wall-clock backstop (ms)
plugins-install = Install
plugins-active = Active:
plugins-none = none
plugins-in-shadow = In shadow:
plugins-since = since { $since }.
plugins-disagreed-on = Disagreed on
plugins-disagreed-of = of { $asked } live decisions.
plugins-see-disagreements = See the disagreements
plugins-failing = The active plugin failed { $count } times in the last 24 hours: what it would have decided was refused, and automatic moves were not made.
plugins-see-failures = See the failures
plugins-promote = Promote the shadow to active
plugins-stop-shadow = Stop the shadow
plugins-roll-back = Roll back { $slot }
plugins-installed = Installed
col-id = Id
col-plugin = Plugin
col-size = Size
col-action = Action
plugins-is-active = Active
plugins-activate = Activate
plugins-is-shadow = In shadow
plugins-shadow = Shadow
plugins-try = Try
plugins-history = History
col-activated = Activated
col-rolled-back = Rolled back
decisions-title = Plugin decisions
decisions-shadow-title = Shadow disagreements
decisions-shadow-hint = Live decisions a plugin in shadow answered otherwise, newest first: the question (a password only as its length and kinds of character), the live answer and the shadow's.
decisions-hint = Every decision a plugin made, newest first: the question (a password only as its length and kinds of character), the answer and its time.
decisions-all = All decisions
decisions-all-slots = All slots
decisions-any-outcome = Any outcome
decisions-plugin-id = Plugin id
decisions-request-id = Request id
decisions-none = No decisions match.
col-question = Question
col-input = Input
col-live-answer = Live answer
col-shadow-answer = Shadow's answer
col-answer = Answer
decisions-older = Older decisions
try-title = Try plugin { $plugin }
try-hint = Ask this { $slot } plugin a question by hand and compare with the active plugin. Nothing changes and nothing is recorded as a decision.
try-account-email = Account email
try-date = Date
try-date-hint = Leave empty for today.
try-move-to = Move to status
try-asked-by = Asked by
try-event = Or: after the event
try-event-detail = The event's detail
try-workflow-hint = Give a status to ask can-transition, or an event (and no status) to ask react: the actions the plugin would take on the request as it is now. The detail is the status left (status-changed), the field (field-changed: priority or tags) or the timer's name (timer).
try-ask = Ask both
try-this = This plugin
try-active = Active plugin
try-error = Error
try-time = Time
try-instructions = Instructions
try-memory = Peak memory
try-log = Log
try-settings = Settings
try-no-settings = This plugin takes no settings.
try-unreadable = The config cannot be shown as these settings ({ $why }): the form shows the defaults; edit the text below to keep what it holds.
try-one-per-line = One per line.
try-default = Default:
try-key = Key
try-settings-hint = The plugin checks the settings first; a setting left at its default is not written. The new installation is not active until you activate it.
try-save-settings = Save the settings as a new installation
try-edit-text = Edit the config as text
try-config-label = Config of a new installation of this component
try-config-hint = The plugin checks it first; the new installation is not active until you activate it.
try-save-config = Save as a new installation
try-saved-as = Saved as #{ $new }. Changes from #{ $old }:
try-replay-title = Replay
try-replay-hint = Run this plugin over the last 100 recorded decisions of its slot and see where it would have decided differently.
try-replay = Replay recorded decisions
try-recorded = Recorded answer
try-back = Back to Plugins
plugins-now-serves = Plugin #{ $id } now serves { $slot } on every server.
plugins-shadow-started = Plugin #{ $id } is in shadow for { $slot } on every server: each live decision is also asked of it.
plugins-shadow-stopped = Stopped the shadow of { $slot }: plugin #{ $id } disagreed on { $disagreed } of { $asked } decisions.
plugins-installed-one = Installed #{ $id } { $name } { $version } for { $slot }.
plugins-installed-active = Installed #{ $id } { $name } { $version } for { $slot }, and it now serves on every server.
try-request-number = Request: a request number, such as 1042.
try-replayed = Replayed { $replayed } recorded decisions: { $same } the same, { $different } different, { $skipped } skipped.

## Operators: audit events

audit-event-login_succeeded = Signed in
audit-event-login_failed = Sign-in failed
audit-event-login_refused = Sign-in refused
audit-event-mfa_code_sent = Sign-in code sent
audit-event-mfa_verified = Sign-in code accepted
audit-event-mfa_failed = Wrong sign-in code
audit-event-logout = Signed out
audit-event-session_ended = Session ended
audit-event-signed_out_everywhere = Signed out everywhere
audit-event-signup_started = Sign-up started
audit-event-signup_completed = Sign-up completed
audit-event-site_chosen = Site chosen, waiting for approval
audit-event-user_approved = Account approved
audit-event-user_rejected = Account rejected
audit-event-invitation_sent = Invitation sent
audit-event-invitation_resent = Invitation sent again
audit-event-invitation_accepted = Invitation accepted
audit-event-staff_added = Staff account added
audit-event-role_changed = Role changed
audit-event-user_disabled = Account disabled
audit-event-reset_requested = Password reset requested
audit-event-password_reset = Password reset
audit-event-password_changed = Password changed
audit-event-site_saved = Site saved
audit-event-mail_wording_changed = Answer to unknown senders reworded
audit-event-branding_changed = Branding changed
audit-event-email_not_accepted = Email refused
audit-event-plugin_installed = Plugin installed
audit-event-plugin_activated = Plugin activated
audit-event-plugin_reconfigured = Plugin reconfigured
audit-event-plugin_rolled_back = Plugin rolled back
audit-event-plugin_shadow_started = Plugin put in shadow
audit-event-plugin_shadow_stopped = Shadow stopped
audit-event-plugin_shadow_promoted = Shadow promoted to active
audit-event-request_fields_changed = Request priority or tags changed

## Operators: webhooks

webhooks-hint = Every event on a request that an endpoint wants is POSTed to it as JSON, with the headers Helpdesk-Event, Helpdesk-Delivery (the same id on every attempt) and Helpdesk-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of "t.body" under the endpoint's secret>. A 2xx answer delivers it; anything else is tried again with back-off, and an endpoint failing for a day is turned off and operators are emailed. Internal addresses are refused, and redirects are not followed.
webhooks-none = No webhook endpoints yet.
webhooks-url = URL
webhooks-events = Events
webhooks-all-events = Every event
webhooks-description = Description
webhooks-state = State
webhooks-on = On
webhooks-off = Off
webhooks-failing-since = Failing since
webhooks-add-title = Add an endpoint
webhooks-add = Add the endpoint
webhooks-added = Endpoint added.
webhooks-secret-title = Signing secret
webhooks-secret-hint = Copy the secret now: it is shown only this once. Receivers check each delivery's signature with it. For
webhooks-turn-off = Turn off
webhooks-turn-on = Turn on
webhooks-turned-off = Endpoint turned off; what waited for it was given up.
webhooks-turned-on = Endpoint turned on.
webhooks-remove = Remove the endpoint
webhooks-removed = Endpoint removed, with its delivery log.
webhooks-log = Deliveries
webhooks-log-hint = The newest { $rows } deliveries, newest first.
webhooks-log-none = Nothing delivered yet.
webhooks-delivery = Delivery
webhooks-event = Event
webhooks-request = Request
webhooks-attempts = Attempts
webhooks-answer = Last answer
webhooks-last-attempt = Last attempt
webhooks-next-attempt = Next attempt
webhooks-resend = Send again
webhooks-resent = Delivery { $delivery } queued again as delivery { $new }.
webhooks-resent-from = again of
