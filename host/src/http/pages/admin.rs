//! Approvals and invitations (Site Administrators and staff), and the operators' pages: sites,
//! people and the audit log.

use super::*;
use crate::http::extract::Query;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(approvals_page))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/reject", post(reject))
        .route("/invitations", get(invitations_page).post(invite))
        .route("/invitations/{id}/resend", post(resend_invitation))
        .route("/staff/sites", get(sites_page).post(create_site))
        .route("/staff/sites/{id}", get(edit_site_page).post(update_site))
        .route("/staff/audit", get(audit_page))
        .route("/staff/mail", get(mail_page))
        .route("/staff/mail/received", get(received_mail_page))
        .route(
            "/staff/mail/wording",
            get(mail_wording_page).post(save_mail_wording),
        )
        .route("/staff/people", get(people_page))
        .route("/staff/people/role", post(change_role))
        .route("/staff/people/disable", post(disable_person))
}

// --- approvals and invitations ---

async fn approvals_page(v: Visit) -> Response {
    let me = match v.require_active("/approvals") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let pending = match v.state.accounts.pending_approvals(me).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Approve a New User Account"),
        "Approve a New User Account",
        "Nobody is waiting for activation.",
        vec!["Name", "Email", "Site", "Signed up"],
    );
    page.rows = pending
        .into_iter()
        .map(|p| Row {
            id: p.id,
            label: p.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", p.given_name, p.surname),
                p.email,
                p.site_name,
                when(p.created_at),
            ],
        })
        .collect();
    page.actions = vec![
        ("/approvals".into(), "/approve".into(), "Approve".into()),
        ("/approvals".into(), "/reject".into(), "Reject".into()),
    ];
    v.render(StatusCode::OK, page)
}

async fn decide(v: Visit, id: i64, approve: bool) -> Response {
    let me = match v.require_active("/approvals") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v
        .state
        .accounts
        .decide_approval(me, id, approve, &v.client)
        .await
    {
        Ok(()) | Err(AuthError::Conflict(_)) => see_other("/approvals"),
        Err(e) => error_page(e),
    }
}

async fn approve(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    decide(v, id, true).await
}

async fn reject(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    decide(v, id, false).await
}

async fn invitations_view(
    v: &Visit,
    me: &Me,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let users = match v.state.accounts.users(me).await {
        Ok(u) => u,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Invitations"),
        "Invitations",
        "No invitations are waiting.",
        vec!["Name", "Email", "State"],
    );
    page.error = error;
    page.notice = notice;
    page.rows = users
        .into_iter()
        .filter(|u| u.state == "invited" || u.must_change_password == 1)
        .map(|u| Row {
            id: u.id,
            label: u.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", u.given_name, u.surname),
                u.email,
                "Invited".into(),
            ],
        })
        .collect();
    page.actions = vec![("/invitations".into(), "/resend".into(), "Resend".into())];
    let mut fields = vec![
        Field::new("email", "Email address", "email", true),
        Field::new("given_name", "Given name", "text", true),
        Field::new("surname", "Surname", "text", true),
    ];
    if me.is_staff() {
        let mut site = Field::new("site_id", "Site", "select", true);
        site.options = v
            .state
            .accounts
            .sites(Some(me))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect();
        fields.push(site);
    }
    let mut mode = Field::new("mode", "Welcome email", "select", true);
    mode.options = vec![
        ("link".into(), "A sign-in link".into()),
        ("temporary_password".into(), "A temporary password".into()),
    ];
    fields.push(mode);
    page.forms = vec![FormSpec {
        action: "/invitations".into(),
        title: "Invite someone".into(),
        button: "Invite".into(),
        fields,
    }];
    v.render(
        if page.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        page,
    )
}

async fn invitations_page(v: Visit) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    invitations_view(&v, &me, None, None).await
}

async fn invite(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let invite = Invite {
        email: f.get("email").to_owned(),
        given_name: f.get("given_name").to_owned(),
        surname: f.get("surname").to_owned(),
        site_id: f.get("site_id").parse().ok(),
        mode: if f.get("mode") == "temporary_password" {
            InviteMode::TemporaryPassword
        } else {
            InviteMode::Link
        },
    };
    match v.state.accounts.invite(&me, &invite, &v.client).await {
        Ok(_) => {
            invitations_view(
                &v,
                &me,
                None,
                Some(format!("Invitation sent to {}.", invite.email.trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => invitations_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn resend_invitation(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    match v.state.accounts.resend_invitation(&me, id, &v.client).await {
        Ok(()) => {
            invitations_view(
                &v,
                &me,
                None,
                Some("Invitation sent again; the earlier one no longer works.".into()),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => invitations_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

// --- operators ---

/// Sites listed per page.
const SITES_PER_PAGE: i64 = 50;

async fn sites_view(
    v: &Visit,
    me: &Me,
    p: &PeopleParams,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (sites, next) = match v
        .state
        .accounts
        .sites_page(me, &p.q, &p.after, SITES_PER_PAGE)
        .await
    {
        Ok(x) => x,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Sites"),
        "Sites",
        if p.q.is_empty() {
            "No sites yet."
        } else {
            "No site matches."
        },
        vec![
            "Name",
            "Domains",
            "Addresses",
            "Maintenance until",
            "Licences",
        ],
    );
    page.error = error;
    page.notice = notice;
    page.search = Some(p.q.clone());
    page.search_label = "Search by name or domain";
    page.next = next.map(|after| next_page("/staff/sites", &p.q, &after));
    page.forms = vec![site_form(
        "/staff/sites".into(),
        "Add a site".into(),
        "Add site",
        None,
    )];
    page.rows = sites
        .into_iter()
        .map(|s| Row {
            id: s.id,
            label: s.name.clone(),
            href: Some(format!("/staff/sites/{}", s.id)),
            cells: vec![
                s.name,
                s.domains.join(", "),
                s.addresses.join(", "),
                s.maintenance_until.unwrap_or_else(|| "none".into()),
                s.licences.to_string(),
            ],
        })
        .collect();
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    v.render(status, page)
}

/// One site's own page: its form, with nothing else to scroll past.
async fn site_view(v: &Visit, me: &Me, id: i64, error: Option<String>) -> Response {
    let site = match v.state.accounts.site(me, id).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(v.layout(&site.name), &site.name, "", Vec::new());
    page.back = Some(("/staff/sites", "All sites"));
    page.forms = vec![site_form(
        format!("/staff/sites/{}", site.id),
        format!("Edit {}", site.name),
        "Save site",
        Some(&site),
    )];
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page.error = error;
    v.render(status, page)
}

/// The address of the next page of a searchable list.
fn next_page(path: &str, search: &str, after: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if !search.is_empty() {
        q.append_pair("q", search);
    }
    q.append_pair("after", after);
    format!("{path}?{}", q.finish())
}

/// The form that adds a site, or edits `site` with its current values filled in.
fn site_form(
    action: String,
    title: String,
    button: &str,
    site: Option<&crate::db::sites::Site>,
) -> FormSpec {
    let mut name = Field::new("name", "Name", "text", true);
    let mut domains = Field::new("domains", "Email domains", "text", false);
    domains.hint = "Separated by commas, e.g. example.com, example.co.uk";
    let mut addresses = Field::new("addresses", "Individual addresses", "text", false);
    addresses.hint = "For people on generic domains such as gmail.com; separated by commas.";
    let mut until = Field::new("maintenance_until", "Maintenance until", "date", false);
    let mut licences = Field::new("licences", "Active licences", "number", true);
    licences.value = "0".into();
    if let Some(s) = site {
        name.value = s.name.clone();
        domains.value = s.domains.join(", ");
        addresses.value = s.addresses.join(", ");
        until.value = s.maintenance_until.clone().unwrap_or_default();
        licences.value = s.licences.to_string();
    }
    FormSpec {
        action,
        title,
        button: button.to_owned(),
        fields: vec![name, domains, addresses, until, licences],
    }
}

async fn sites_page(v: Visit, Query(p): Query<PeopleParams>) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    sites_view(&v, &me, &p, None, None).await
}

async fn edit_site_page(v: Visit, Path(id): Path<i64>) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    site_view(&v, &me, id, None).await
}

fn list(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn create_site(v: Visit, f: Posted) -> Response {
    save_site(v, None, f).await
}

async fn update_site(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    save_site(v, Some(id), f).await
}

async fn save_site(v: Visit, id: Option<i64>, f: Posted) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let Ok(licences) = f.get("licences").trim().parse::<i64>() else {
        let msg = "Active licences must be a whole number.".to_owned();
        return site_refused(&v, &me, id, msg).await;
    };
    let input = SiteInput {
        name: f.get("name").to_owned(),
        domains: list(f.get("domains")),
        addresses: list(f.get("addresses")),
        maintenance_until: Some(f.get("maintenance_until").trim().to_owned()),
        licences,
    };
    match v.state.accounts.save_site(Some(&me), id, &input).await {
        Ok(_) => {
            let done = if id.is_some() { "saved" } else { "added" };
            let notice = format!("Site {} {done}.", input.name.trim());
            sites_view(&v, &me, &PeopleParams::default(), None, Some(notice)).await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => site_refused(&v, &me, id, msg).await,
            Err(page) => page,
        },
    }
}

/// The page a refused site form came from, with what was wrong.
async fn site_refused(v: &Visit, me: &Me, id: Option<i64>, msg: String) -> Response {
    match id {
        Some(id) => site_view(v, me, id, Some(msg)).await,
        None => sites_view(v, me, &PeopleParams::default(), Some(msg), None).await,
    }
}

/// What a searchable list (People, Sites) shows: a search and where the page starts.
#[derive(Debug, Default, serde::Deserialize)]
struct PeopleParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

/// People listed per page.
const PEOPLE_PER_PAGE: i64 = 50;

async fn people_view(
    v: &Visit,
    me: &Me,
    p: &PeopleParams,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (people, next) = match v
        .state
        .accounts
        .people(me, &p.q, &p.after, PEOPLE_PER_PAGE)
        .await
    {
        Ok(x) => x,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("People"),
        "People",
        if p.q.is_empty() {
            "Nobody yet."
        } else {
            "Nobody matches."
        },
        vec!["Name", "Email", "Role", "State", "Site"],
    );
    page.error = error;
    page.notice = notice;
    page.search = Some(p.q.clone());
    page.next = next.map(|after| next_page("/staff/people", &p.q, &after));
    page.rows = people
        .into_iter()
        .map(|u| Row {
            id: u.id,
            label: u.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", u.given_name, u.surname),
                u.email,
                u.role.replace('_', " "),
                u.state.replace('_', " "),
                u.site_name.unwrap_or_default(),
            ],
        })
        .collect();
    let mut role = Field::new("role", "Role", "select", true);
    role.options = ["customer", "site_admin", "agent", "operator"]
        .iter()
        .map(|r| ((*r).to_owned(), (*r).replace('_', " ")))
        .collect();
    page.forms = vec![
        FormSpec {
            action: "/staff/people/role".into(),
            title: "Change a role".into(),
            button: "Change role".into(),
            fields: vec![Field::new("email", "Email address", "email", true), role],
        },
        FormSpec {
            action: "/staff/people/disable".into(),
            title: "Disable an account".into(),
            button: "Disable".into(),
            fields: vec![Field::new("email", "Email address", "email", true)],
        },
    ];
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    v.render(status, page)
}

async fn people_page(v: Visit, Query(p): Query<PeopleParams>) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    people_view(&v, &me, &p, None, None).await
}

/// The person an operator's form names by email address.
async fn person(v: &Visit, me: &Me, email: &str) -> Result<i64, AuthError> {
    let email = email.trim().to_lowercase();
    v.state
        .accounts
        .users(me)
        .await?
        .into_iter()
        .find(|u| u.email == email)
        .map(|u| u.id)
        .ok_or(AuthError::Invalid(
            "unknown_person",
            format!("Nobody has the address {email}."),
        ))
}

async fn change_role(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let result = match (
        person(&v, &me, f.get("email")).await,
        Role::parse(f.get("role")),
    ) {
        (Ok(id), Some(role)) => v.state.accounts.set_role(&me, id, role, &v.client).await,
        (Err(e), _) => Err(e),
        (_, None) => Err(AuthError::Invalid("invalid_role", "Choose a role.".into())),
    };
    match result {
        Ok(()) => {
            people_view(
                &v,
                &me,
                &PeopleParams::default(),
                None,
                Some(format!("Role of {} changed.", f.get("email").trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => people_view(&v, &me, &PeopleParams::default(), Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn disable_person(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let result = match person(&v, &me, f.get("email")).await {
        Ok(id) => v.state.accounts.disable(&me, id, &v.client).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            people_view(
                &v,
                &me,
                &PeopleParams::default(),
                None,
                Some(format!("{} can no longer sign in.", f.get("email").trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => people_view(&v, &me, &PeopleParams::default(), Some(msg), None).await,
            Err(page) => page,
        },
    }
}

/// What the audit log shows: one event, entries about an account, and where the page starts.
#[derive(Debug, Default, serde::Deserialize)]
struct AuditParams {
    #[serde(default)]
    event: String,
    #[serde(default)]
    q: String,
    before: Option<i64>,
}

/// Audit entries per page.
const AUDIT_PER_PAGE: i64 = 100;

async fn audit_page(v: Visit, Query(p): Query<AuditParams>) -> Response {
    let me = match v.require_active("/staff/audit") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let mut events = match v
        .state
        .accounts
        .audit_log(me, p.before, &p.event, &p.q, AUDIT_PER_PAGE + 1)
        .await
    {
        Ok(e) => e,
        Err(e) => return error_page(e),
    };
    let more = events.len() as i64 > AUDIT_PER_PAGE;
    events.truncate(AUDIT_PER_PAGE as usize);
    let mut page = TablePage::new(
        v.layout("Audit log"),
        "Audit log",
        "No events match.",
        vec!["When", "Event", "Account", "By", "Address", "Detail"],
    );
    page.search = Some(p.q.clone());
    page.search_label = "Account or actor";
    let mut choice = Field::new("event", "Event", "select", false);
    choice.options = std::iter::once((String::new(), "All events".to_owned()))
        .chain(
            crate::db::audit::EVENTS
                .iter()
                .map(|(key, words)| ((*key).to_owned(), (*words).to_owned())),
        )
        .collect();
    choice.value = p.event.clone();
    page.filters = vec![choice];
    page.next = more
        .then(|| events.last().map(|e| e.id))
        .flatten()
        .map(|before| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, val) in [("event", &p.event), ("q", &p.q)] {
                if !val.is_empty() {
                    q.append_pair(k, val);
                }
            }
            q.append_pair("before", &before.to_string());
            format!("/staff/audit?{}", q.finish())
        });
    page.rows = events
        .into_iter()
        .map(|e| Row {
            id: e.id,
            label: e.event.clone(),
            href: None,
            cells: vec![
                when(e.at),
                crate::db::audit::describe(&e.event),
                e.email,
                e.actor,
                e.ip,
                e.detail,
            ],
        })
        .collect();
    v.render(StatusCode::OK, page)
}

/// Email the outbox stopped trying to deliver, with the reason, for operators to act on (fix
/// the address, tell the person another way).
async fn mail_page(v: Visit) -> Response {
    let me = match v.require_active("/staff/mail") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let mail = match v.state.accounts.undelivered_mail(me).await {
        Ok(m) => m,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Undelivered email"),
        "Undelivered email",
        "Every email has been delivered or is still being tried.",
        vec!["Given up", "To", "Subject", "Attempts", "Reason"],
    );
    page.rows = mail
        .into_iter()
        .map(|m| Row {
            id: m.id,
            label: m.to_addr.clone(),
            href: None,
            cells: vec![
                when(m.failed_at),
                m.to_addr,
                m.subject,
                m.attempts.to_string(),
                m.last_error.unwrap_or_default(),
            ],
        })
        .collect();
    v.render(StatusCode::OK, page)
}

/// Email read from the support mailbox and what became of each, then the addresses bounces
/// reported as undeliverable (shown first: they need an operator).
async fn received_mail_page(v: Visit) -> Response {
    let me = match v.require_active("/staff/mail/received") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (received, bouncing) = match v.state.accounts.received_mail(me).await {
        Ok(m) => m,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Received email"),
        "Received email",
        "No email has been read from the support mailbox.",
        vec!["Received", "From", "Subject", "Outcome", "Why", "Request"],
    );
    let bounced = bouncing.into_iter().enumerate().map(|(i, b)| Row {
        id: -(i as i64) - 1,
        label: b.email.clone(),
        href: None,
        cells: vec![
            when(b.bouncing_since),
            b.email,
            "(address marked as bouncing)".into(),
            "bouncing".into(),
            b.bounce_reason.unwrap_or_default(),
            String::new(),
        ],
    });
    let read = received.into_iter().map(|m| Row {
        id: m.id,
        label: m.from_addr.clone(),
        href: m.request_id.map(|id| format!("/requests/{id}")),
        cells: vec![
            when(m.received_at),
            m.from_addr,
            m.subject,
            m.outcome,
            m.reason,
            m.request_id
                .map(crate::requests::number)
                .unwrap_or_default(),
        ],
    });
    page.rows = bounced.chain(read).collect();
    v.render(StatusCode::OK, page)
}

#[derive(Template)]
#[template(path = "mail_wording.html")]
struct MailWordingPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    text: String,
    built_in: &'static str,
}

/// The answer to mail from unknown senders, for operators to word.
async fn mail_wording_page(v: Visit) -> Response {
    mail_wording_view(&v, None, None, None).await
}

async fn mail_wording_view(
    v: &Visit,
    error: Option<String>,
    notice: Option<String>,
    draft: Option<String>,
) -> Response {
    let me = match v.require_active("/staff/mail/wording") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (current, built_in) = match v.state.accounts.join_wording(me).await {
        Ok(w) => w,
        Err(e) => return error_page(e),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = MailWordingPage {
        layout: v.layout("Answer to unknown senders"),
        error,
        notice,
        text: draft.or(current).unwrap_or_default(),
        built_in,
    };
    v.render(status, page)
}

async fn save_mail_wording(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/mail/wording") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let text = f.get("join").to_owned();
    match v
        .state
        .accounts
        .set_join_wording(&me, &v.client, &text)
        .await
    {
        Ok(()) => mail_wording_view(&v, None, Some("Answer saved.".into()), None).await,
        Err(e) => match visible(e) {
            Ok((msg, _)) => mail_wording_view(&v, Some(msg), None, Some(text)).await,
            Err(page) => page,
        },
    }
}
