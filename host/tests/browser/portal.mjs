// Follows the customer documentation (sign up, first login, log in, forgot password) word for
// word in headless Chromium against a running portal. Started by host/tests/host/browser.rs,
// which provides BASE_URL, MAIL_URL (what the test SMTP server received), STAFF_LINK (from
// `helpdesk staff add`) and CHROMIUM.
import { audit, expectText, fitsWidth, launch, stepper, tabTo } from './checks.mjs';

const BASE = process.env.BASE_URL;
const MAIL = process.env.MAIL_URL;
const PASSWORD = 'Sunny-Day42';
const NEW_PASSWORD = 'Rainy-Night77';

// Pages the test drives; each is checked with axe-core at every step.
const opened = [];
// Errors the portal's script raised; there must be none.
const scriptErrors = [];

const step = stepper(opened);

async function mail(to, subject, n = 1) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const res = await fetch(`${MAIL}/mail?to=${encodeURIComponent(to)}&subject=${encodeURIComponent(subject)}`);
    const list = await res.json();
    if (list.length >= n) return list[n - 1];
    if (Date.now() > deadline) throw new Error(`no email ${n} to ${to} about "${subject}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function link(message, fragment) {
  const found = (message.text.match(/https?:\/\/\S+/g) || []).find((u) => u.includes(fragment));
  if (!found) throw new Error(`no ${fragment} link in: ${message.text}`);
  return found;
}

function code(message) {
  const m = message.text.match(/\b(\d{6})\b/);
  if (!m) throw new Error(`no code in: ${message.text}`);
  return m[1];
}

const browser = await launch();

async function newPage(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => { console.log(`script error on ${page.url()}: ${e}`); scriptErrors.push(e); });
  opened.push(page);
  return page;
}

// Sign up for the Customer Portal (seeds/001): Join now → Email → Submit → verification email →
// Email Validation → Continue → the form → Create → Continue.
async function signUp(page, email, given) {
  await step(`${email} joins`);
  await page.goto(BASE);
  await page.getByRole('link', { name: 'Join now' }).click();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Submit' }).click();
  await expectText(page, 'Check your email');
  const verification = await mail(email, 'Verify your email');
  await page.goto(link(verification, '/join/verify/'));
  await page.getByRole('heading', { name: 'Email Validation' }).waitFor();
  await page.getByRole('link', { name: 'Continue' }).click();
  // A password that breaks the policy: every violation is listed.
  await page.getByLabel('New password', { exact: true }).fill('abc');
  await page.getByLabel('Confirm new password').fill('abd');
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Surname').fill('Tester');
  await page.getByRole('button', { name: 'Create' }).click();
  const problems = await page.locator('.error li').count();
  if (problems < 2) throw new Error(`expected every violation listed, saw ${problems}`);
  await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm new password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create' }).click();
  await expectText(page, 'Your account has been created');
  await page.getByRole('link', { name: 'Continue' }).click();
}

// Log in (seeds/000): EMAIL ADDRESS, PASSWORD, Stay logged in, then the emailed code when asked.
async function logIn(page, email, password, codesSoFar) {
  await step(`${email} logs in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Stay logged in').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  if (page.url().includes('/login/verify')) {
    await step(`${email} verifies the emailed code`);
    await page.getByRole('button', { name: 'Send verification code' }).click();
    const message = await mail(email, 'verification code', codesSoFar + 1);
    await page.getByLabel('Verification code').fill(code(message));
    await page.getByRole('button', { name: 'Verify code' }).click();
    await expectText(page, 'has been verified');
    await page.getByRole('link', { name: 'Continue' }).click();
    return 1;
  }
  return 0;
}

async function openLogin(page) {
  await page.goto(BASE);
  await page.getByRole('link', { name: 'Log in' }).click();
}

async function approve(page, email) {
  await step(`approving ${email}`);
  await page.getByRole('link', { name: 'Approvals' }).first().click();
  await page.getByRole('button', { name: `Approve ${email}` }).click();
  await expectText(page, 'Nobody is waiting');
}

try {
  // Vendor staff set their password from the CLI's link.
  const staff = await newPage();
  await step('staff sets a password');
  await staff.goto(process.env.STAFF_LINK);
  await staff.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await staff.getByLabel('Confirm new password').fill(PASSWORD);
  await staff.getByRole('button', { name: 'Set password and continue' }).click();
  await expectText(staff, 'Your account is ready');
  // A visitor signs up and, at first login, selects their site.
  const ann = await newPage();
  await signUp(ann, 'ann@acme.example', 'Ann');
  let annCodes = await logIn(ann, 'ann@acme.example', PASSWORD, 0);
  await step('ann selects her site');
  await ann.getByRole('heading', { name: 'Select your site' }).waitFor();
  await expectText(ann, 'Do not select an unrecognised company name');
  await ann.getByLabel('Acme Mining').check();
  await ann.getByRole('button', { name: 'Continue' }).click();
  await expectText(ann, 'Thank you for signing up');

  // Staff are told someone waits, sign in and activate her.
  await mail('ops@vendor.test', 'waiting for activation');
  await openLogin(staff);
  await logIn(staff, 'ops@vendor.test', PASSWORD, 0);
  await staff.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await approve(staff, 'ann@acme.example');
  await mail('ann@acme.example', 'is active');

  // Returning user: this device passed the code recently, so no code is asked.
  await openLogin(ann);
  annCodes += await logIn(ann, 'ann@acme.example', PASSWORD, annCodes);
  await ann.getByRole('heading', { name: 'Dashboard' }).waitFor();
  if (annCodes !== 1) throw new Error('a remembered device was asked for a code again');
  await step('ann logs out');
  await ann.getByRole('button', { name: 'Log out' }).click();
  await expectText(ann, 'You have logged out');

  // Forgot your password?
  await step('ann resets her password');
  await openLogin(ann);
  await ann.getByRole('link', { name: 'Forgot your password?' }).click();
  await ann.getByLabel('Email address').fill('ann@acme.example');
  await ann.getByRole('button', { name: 'Submit' }).click();
  await expectText(ann, 'If that address has an account');
  const reset = await mail('ann@acme.example', 'Reset your');
  await ann.goto(link(reset, '/reset/'));
  await ann.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await ann.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await ann.getByRole('button', { name: 'Submit' }).click();
  await expectText(ann, 'Your password has been changed');
  annCodes += await logIn(ann, 'ann@acme.example', NEW_PASSWORD, annCodes);
  await ann.getByRole('heading', { name: 'Dashboard' }).waitFor();

  // A second user of the same site is approved by the first, now its Site Administrator.
  const bob = await newPage();
  await signUp(bob, 'bob@acme.example', 'Bob');
  await logIn(bob, 'bob@acme.example', PASSWORD, 0);
  await bob.getByLabel('Acme Mining').check();
  await bob.getByRole('button', { name: 'Continue' }).click();
  await expectText(bob, 'Thank you for signing up');
  await mail('ann@acme.example', 'waiting for activation');
  await approve(ann, 'bob@acme.example');
  await mail('bob@acme.example', 'is active');
  await openLogin(bob);
  await logIn(bob, 'bob@acme.example', PASSWORD, 1);
  await bob.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await expectText(bob, 'Welcome, Bob');

  // --- How to use the Customer Portal (seeds/002) ---
  // An operator configures a quick link for customers.
  await step('the operator adds a quick link');
  await staff.goto(`${BASE}/staff/quick-links`);
  await staff.getByLabel('Title').fill('Documentation');
  await staff.getByLabel('URL').fill('https://docs.example.com/portal');
  await staff.getByRole('button', { name: 'Add link' }).click();
  await staff.getByRole('cell', { name: 'Documentation', exact: true }).waitFor();

  // Navigating the Home Page: Open Requests and Quick Links.
  await step('ann sees her dashboard');
  await ann.goto(BASE);
  await ann.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await ann.getByRole('heading', { name: 'Open Requests' }).waitFor();
  await ann.getByRole('heading', { name: 'Quick Links' }).waitFor();
  await ann.getByRole('link', { name: 'Documentation' }).waitFor();

  // Ann raises a request with a screenshot.
  await step('ann raises a request with an attachment');
  await ann.getByRole('link', { name: 'New request' }).first().click();
  await ann.getByLabel('Subject').fill('Conveyor telemetry missing');
  await ann.getByLabel('Description').fill('Since 3 May the dashboard shows no conveyor data.');
  await ann.getByLabel('Attach files').setInputFiles({ name: 'screenshot.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
  await ann.getByRole('button', { name: 'Submit' }).click();
  await expectText(ann, 'Your request has been sent');
  const requestPath = new URL(ann.url()).pathname;
  const number = (await ann.locator('h1 .number').innerText()).trim();
  if (!/^REQ-\d+$/.test(number)) throw new Error(`unexpected request number ${number}`);
  await ann.getByRole('link', { name: 'screenshot.png' }).waitFor();
  await mail('ann@acme.example', `[${number}] We received your request`);
  await ann.goto(`${BASE}/dashboard`);
  await ann.getByRole('link', { name: number }).waitFor();

  // Staff take it from the queue: "Assign to me", an internal note, then the reply and the move
  // to On Hold in one submit.
  await step('staff answer from the queue');
  await staff.getByRole('link', { name: 'Queue' }).click();
  await staff.getByRole('link', { name: 'Conveyor telemetry missing' }).click();
  await staff.getByRole('button', { name: 'Assign to me' }).click();
  await expectText(staff, 'Assignment saved');
  if ((await staff.locator('#request-assignee').innerText()).trim() !== 'Olive Ops') throw new Error('not assigned to the operator by name');
  if (await staff.getByText('only staff see it, and nobody is emailed').isVisible()) throw new Error('the note warning shows while replying');
  await staff.getByLabel('Internal note').check();
  await staff.getByText('only staff see it, and nobody is emailed').waitFor();
  await staff.getByLabel('Message').fill('Internal: site runs old firmware zebrafish-7.');
  await staff.getByRole('button', { name: 'Add internal note' }).click();
  await expectText(staff, 'Internal note added');
  const keep = await staff.getByLabel('Status', { exact: true }).inputValue();
  if (keep !== '') throw new Error(`the status control should start on the current status, not "${keep}"`);
  await staff.getByLabel('Message').fill('We **restarted** the gateway; please check again.\nStatus: https://status.example.com/gateway');
  await staff.getByLabel('Status', { exact: true }).selectOption({ label: 'On Hold' });
  await staff.getByRole('button', { name: 'Send reply' }).click();
  await expectText(staff, 'Your reply has been sent and the request updated');
  if ((await staff.locator('#request-status').innerText()).trim() !== 'On Hold') throw new Error('the one-submit reply did not move the request');
  const assignee = (await staff.locator('#request-assignee').innerText()).trim();

  // Viewing and Tracking Requests: Requests → the list → the request.
  await step('ann reads the reply, the status and the assignee');
  const reply = await mail('ann@acme.example', `[${number}] New reply`);
  if (!reply.text.includes('The request is now On Hold.')) throw new Error(`the reply email does not give the new status: ${reply.text}`);
  await ann.getByRole('link', { name: 'Requests', exact: true }).click();
  const row = ann.getByRole('row', { name: new RegExp(number) });
  await row.getByText('On Hold').waitFor();
  await row.getByRole('link', { name: number }).click();
  await expectText(ann, 'We restarted the gateway; please check again.');
  // Markdown, rendered safely: the bold word, and the bare address made a link.
  await ann.locator('.message strong', { hasText: 'restarted' }).waitFor();
  const statusLink = ann.getByRole('link', { name: 'https://status.example.com/gateway' });
  if ((await statusLink.getAttribute('rel')) !== 'noopener noreferrer nofollow') throw new Error('links in messages should not hand the portal to the site they open');
  if ((await ann.locator('#request-status').innerText()).trim() !== 'On Hold') throw new Error('status not shown');
  if ((await ann.locator('#request-assignee').innerText()).trim() !== assignee) throw new Error('assignee not shown');
  await ann.getByRole('link', { name: 'screenshot.png' }).waitFor();
  if ((await ann.content()).includes('zebrafish')) throw new Error('the internal note is visible to the customer');
  if ((await ann.content()).includes('Allowed by')) throw new Error('plugin provenance is shown to the customer');

  // Updating a Request or Replying to the Team: Message, Attach / Add file, Send.
  await step('ann replies with a file');
  await ann.getByLabel('Message').fill('Data is back since 10:00, see the log.');
  await ann.getByLabel('Attach', { exact: true }).setInputFiles({ name: 'gateway.log', mimeType: 'text/plain', buffer: Buffer.from('10:00 connected') });
  await ann.getByRole('button', { name: 'Send' }).click();
  await expectText(ann, 'Your message has been sent');
  await ann.getByRole('link', { name: 'gateway.log' }).waitFor();
  if ((await ann.locator('#request-status').innerText()).trim() !== 'In Progress') throw new Error('a customer reply should bring the request back to In Progress');
  if ((await ann.content()).includes('zebrafish')) throw new Error('the internal note is visible to the customer');
  await mail('ops@vendor.test', `[${number}] Customer replied`);

  // Pictures by paste and by drag and drop, shown in the conversation (the plain file field
  // works without the script; the script adds these).
  await step('ann pastes a screenshot and drops a photo into a reply, and sees both in the page');
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==';
  await ann.getByLabel('Message').fill('Two pictures: pasted and dropped.');
  await ann.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const body = document.querySelector('textarea#body');
    const pasted = new DataTransfer();
    pasted.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: pasted, bubbles: true, cancelable: true }));
    const dropped = new DataTransfer();
    dropped.items.add(new File([bytes], 'photo.png', { type: 'image/png' }));
    body.form.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, bubbles: true, cancelable: true }));
  }, png);
  await expectText(ann, 'Attached: pasted-');
  await expectText(ann, 'photo.png');
  await ann.getByRole('button', { name: 'Send' }).click();
  await expectText(ann, 'Your message has been sent');
  for (const picture of [ann.locator('.files img[alt="photo.png"]'), ann.locator('.files img[alt^="pasted-"]')]) {
    await picture.waitFor();
    await picture.scrollIntoViewIfNeeded();
    await ann.waitForFunction((img) => img.complete, await picture.elementHandle());
    if (!(await picture.evaluate((img) => img.naturalWidth === 2))) throw new Error('a picture is not shown in the conversation');
  }
  // Only real pictures are shown: the earlier "screenshot.png" was not one, and stays a download.
  if ((await ann.locator('.files img[alt="screenshot.png"]').count()) !== 0) throw new Error('a file that is not a picture is shown as one');
  const served = await ann.evaluate(async () => {
    const src = document.querySelector('.files img[alt="photo.png"]').getAttribute('src');
    const res = await fetch(src);
    return { type: res.headers.get('content-type'), csp: res.headers.get('content-security-policy') };
  });
  if (served.type !== 'image/png' || !served.csp.includes('sandbox')) throw new Error(`pictures must be served sandboxed: ${JSON.stringify(served)}`);
  await staff.reload();
  await expectText(staff, 'Data is back since 10:00');
  await staff.getByRole('link', { name: 'gateway.log' }).waitFor();
  const annMail = await (await fetch(`${MAIL}/mail?to=${encodeURIComponent('ann@acme.example')}&subject=`)).json();
  if (annMail.some((m) => m.text.includes('zebrafish'))) throw new Error('the internal note was emailed to the customer');

  // Replying by email: Ann answers the reply email from her mail client with a photo.
  await step('ann replies by email with a photo');
  const sent = await fetch(`${MAIL}/reply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: 'ann@acme.example', subject: `[${number}] New reply`, text: 'Photo of the panel attached.', file: 'panel.png' }),
  });
  if (!sent.ok) throw new Error(`could not deliver the email reply: ${sent.status}`);
  await mail('ops@vendor.test', `[${number}] Customer replied`, 3);
  await step('staff see the emailed reply in the queue');
  await staff.getByRole('link', { name: 'Queue', exact: true }).click();
  await staff.getByRole('link', { name: 'Conveyor telemetry missing' }).click();
  await expectText(staff, 'Photo of the panel attached.');
  await staff.getByRole('link', { name: 'panel.png' }).waitFor();
  await staff.getByRole('link', { name: 'original email' }).waitFor();
  if ((await staff.content()).includes('On Tue, 1 Dec 2026')) throw new Error('the quoted history was kept');
  await step('ann sees it on her request page');
  await ann.reload();
  await expectText(ann, 'Photo of the panel attached.');
  await ann.getByRole('link', { name: 'panel.png' }).waitFor();
  if ((await ann.getByRole('link', { name: 'original email' }).count()) !== 0) throw new Error('the original email is offered to the customer');

  // A satisfaction rating, offered once the request is closed, and shown to staff.
  await step('ann closes her request and rates it');
  await ann.goto(`${BASE}${requestPath}`);
  await ann.getByRole('button', { name: 'Close request' }).click();
  await ann.getByRole('heading', { name: 'How did we do?' }).waitFor();
  await ann.getByLabel("Good, I'm satisfied").check();
  await ann.getByLabel('Comment (optional)').fill('Quick and clear.');
  await ann.getByRole('button', { name: 'Send rating' }).click();
  await expectText(ann, 'Thank you for your rating');
  await staff.goto(`${BASE}${requestPath}`);
  await expectText(staff, 'Customer rating: Good');

  // Sharing with a colleague of the site (CC): Bob now sees Ann's request.
  await step('ann shares her request with bob');
  await ann.goto(`${BASE}${requestPath}`);
  await ann.getByLabel('Share with a colleague of Acme Mining (CC)').fill('bob@acme.example');
  await ann.getByRole('button', { name: 'Share', exact: true }).click();
  await expectText(ann, 'Shared. They have been emailed');
  await mail('bob@acme.example', 'Shared with you');
  await bob.goto(`${BASE}/requests`);
  await bob.getByRole('link', { name: 'Conveyor telemetry missing' }).waitFor();

  // Keyboard only: Bob signs in on a new device, raises a request and replies, without a mouse.
  await step('bob signs in, raises a request and replies with the keyboard alone');
  const keys = await newPage();
  await keys.goto(`${BASE}/login`);
  await keys.keyboard.press('Tab');
  const first = await keys.evaluate(() => document.activeElement.innerText);
  if (first !== 'Skip to content') throw new Error(`the first Tab should reach the skip link, not "${first}"`);
  await keys.keyboard.press('Enter');
  if (!(await keys.evaluate(() => document.activeElement.id === 'main'))) throw new Error('the skip link does not move focus to the content');
  await tabTo(keys, 'Email address');
  await keys.keyboard.type('bob@acme.example');
  await tabTo(keys, 'Password');
  await keys.keyboard.type(PASSWORD);
  await keys.keyboard.press('Enter');
  await keys.waitForURL(/\/login\/verify/);
  await tabTo(keys, 'Send verification code');
  await keys.keyboard.press('Enter');
  const bobCode = await mail('bob@acme.example', 'verification code', 2);
  await keys.getByLabel('Verification code').waitFor();
  await tabTo(keys, 'Verification code');
  await keys.keyboard.type(code(bobCode));
  await keys.keyboard.press('Enter');
  await expectText(keys, 'has been verified');
  await tabTo(keys, 'Continue');
  await keys.keyboard.press('Enter');
  await keys.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await tabTo(keys, 'New request');
  await keys.keyboard.press('Enter');
  await keys.getByRole('heading', { name: 'New request' }).waitFor();
  await tabTo(keys, 'Subject');
  await keys.keyboard.type('Keyboard request');
  await tabTo(keys, 'Description');
  await keys.keyboard.type('Raised without a mouse.');
  await tabTo(keys, 'Submit');
  await keys.keyboard.press('Enter');
  await expectText(keys, 'Your request has been sent');
  await audit(keys, 'after a request raised with the keyboard');
  await tabTo(keys, 'Message');
  await keys.keyboard.type('A reply typed and sent with the keyboard.');
  await tabTo(keys, 'Send');
  await keys.keyboard.press('Enter');
  await expectText(keys, 'Your message has been sent');

  await step('staff save a queue view');
  await staff.goto(`${BASE}/requests?status=all`);
  await staff.getByLabel('Save these filters as a view').fill('Everything');
  await staff.getByRole('button', { name: 'Save view' }).click();
  const view = staff.getByRole('navigation', { name: 'Saved views' }).getByRole('link', { name: /^Everything \d+$/ });
  await view.waitFor();
  if ((await view.getAttribute('aria-current')) !== 'page') throw new Error('the view shown is not marked as the current one');

  // A German customer: her browser asks for German and runs in Berlin, so every page she sees
  // is German and times are shown in German, in her zone.
  await step('greta, a German customer, signs up in German');
  const greta = await newPage({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  await greta.goto(BASE);
  if ((await greta.getAttribute('html', 'lang')) !== 'de') throw new Error('a German browser got another language');
  await greta.getByRole('heading', { name: 'Kundenportal' }).waitFor();
  await greta.getByRole('link', { name: 'Jetzt registrieren' }).click();
  await greta.getByLabel('E-Mail', { exact: true }).fill('greta@acme.example');
  await greta.getByRole('button', { name: 'Absenden' }).click();
  await expectText(greta, 'Bitte prüfen Sie Ihr Postfach');
  const gretaVerification = await mail('greta@acme.example', 'Verify your email');
  await greta.goto(link(gretaVerification, '/join/verify/'));
  await greta.getByRole('heading', { name: 'E-Mail-Bestätigung' }).waitFor();
  await greta.getByRole('link', { name: 'Weiter' }).click();
  await greta.getByLabel('Neues Passwort', { exact: true }).fill(PASSWORD);
  await greta.getByLabel('Neues Passwort bestätigen').fill(PASSWORD + 'x');
  await greta.getByLabel('Vorname').fill('Greta');
  await greta.getByLabel('Nachname').fill('Tester');
  await greta.getByRole('button', { name: 'Konto anlegen' }).click();
  await expectText(greta, 'Das Passwort erfüllt die Anforderungen nicht.');
  await expectText(greta, 'Die Bestätigung stimmt nicht mit dem neuen Passwort überein.');
  await greta.getByLabel('Neues Passwort', { exact: true }).fill(PASSWORD);
  await greta.getByLabel('Neues Passwort bestätigen').fill(PASSWORD);
  await greta.getByRole('button', { name: 'Konto anlegen' }).click();
  await expectText(greta, 'Ihr Konto wurde angelegt');
  await greta.getByRole('link', { name: 'Weiter' }).click();

  await step('greta logs in in German and selects her site');
  const germanLogIn = async () => {
    await greta.getByLabel('E-Mail-Adresse').fill('greta@acme.example');
    await greta.getByLabel('Passwort', { exact: true }).fill(PASSWORD);
    await greta.getByRole('button', { name: 'Anmelden' }).click();
    await greta.waitForLoadState();
  };
  await germanLogIn();
  if (greta.url().includes('/login/verify')) {
    await greta.getByRole('button', { name: 'Bestätigungscode senden' }).click();
    await expectText(greta, 'Wir haben einen Bestätigungscode an greta@acme.example gesendet');
    const gretaCode = await mail('greta@acme.example', 'verification code');
    await greta.getByLabel('Bestätigungscode').fill(code(gretaCode));
    await greta.getByRole('button', { name: 'Code bestätigen' }).click();
    await expectText(greta, 'Ihre E-Mail-Adresse wurde bestätigt');
    await greta.getByRole('link', { name: 'Weiter' }).click();
  }
  await greta.getByRole('heading', { name: 'Standort auswählen' }).waitFor();
  await greta.getByLabel('Acme Mining').check();
  await greta.getByRole('button', { name: 'Weiter' }).click();
  await expectText(greta, 'Vielen Dank für Ihre Registrierung im Kundenportal.');
  await approve(ann, 'greta@acme.example');
  await mail('greta@acme.example', 'is active');

  await step('greta raises a request and reads it in German');
  await greta.goto(`${BASE}/login`);
  await germanLogIn();
  await greta.getByRole('heading', { name: 'Übersicht' }).waitFor();
  await expectText(greta, 'Willkommen, Greta.');
  await greta.getByRole('link', { name: 'Neue Anfrage' }).first().click();
  await greta.getByLabel('Betreff').fill('Förderband meldet keine Daten');
  await greta.getByLabel('Beschreibung').fill('Seit heute Morgen fehlen die Messwerte.');
  await greta.getByRole('button', { name: 'Absenden' }).click();
  await expectText(greta, 'Ihre Anfrage wurde gesendet');
  const gretaRequest = new URL(greta.url()).pathname;
  if ((await greta.locator('#request-status').innerText()) !== 'Offen') throw new Error('the status is not in German');
  await greta.getByRole('button', { name: 'Anfrage schließen' }).waitFor();
  const when = greta.locator('.conversation time').first();
  const shown = await when.innerText();
  const exact = await when.getAttribute('title');
  if (!/jetzt|vor .*(Sekunde|Minute)/.test(shown)) throw new Error(`the time is not relative German: "${shown}"`);
  if (!/MEZ|MESZ/.test(exact)) throw new Error(`the exact time is not in Berlin's zone, worded in German: "${exact}"`);
  await greta.getByLabel('Nachricht').fill('Nachtrag: Sensor 4 ist auch betroffen.');
  await greta.getByRole('button', { name: 'Senden', exact: true }).click();
  await expectText(greta, 'Ihre Nachricht wurde gesendet.');

  await step('greta switches to English and back, and saves her preferences');
  await greta.getByRole('button', { name: 'English' }).click();
  await greta.getByRole('heading', { name: 'Conversation' }).waitFor();
  await greta.getByRole('button', { name: 'Deutsch' }).click();
  await greta.getByRole('heading', { name: 'Verlauf', exact: true }).waitFor();
  await greta.getByRole('link', { name: 'Einstellungen' }).click();
  await greta.getByLabel('Zeitzone', { exact: true }).selectOption('Europe/Berlin');
  await greta.getByLabel('Sprache', { exact: true }).selectOption('de');
  await greta.getByRole('button', { name: 'Speichern' }).click();
  await expectText(greta, 'Ihre Einstellungen sind gespeichert.');
  if ((await greta.getAttribute('html', 'data-tz')) !== 'Europe/Berlin') throw new Error('the saved zone is not on the page');

  // Request types and custom fields: the operator puts a required field on the new-request
  // form; Bob raises a request with a type and the field; staff change its type.
  await step('the operator adds a custom field; bob raises a request with a type and the field');
  await staff.goto(`${BASE}/staff/request-fields`);
  await staff.getByLabel('Key', { exact: true }).fill('machine');
  await staff.getByLabel('Kind', { exact: true }).selectOption('text');
  await staff.getByLabel('Label', { exact: true }).fill('Machine serial');
  await staff.getByLabel('Required', { exact: true }).check();
  await staff.getByLabel('Shown to customers', { exact: true }).check();
  await staff.getByLabel('On the new-request form', { exact: true }).check();
  await staff.getByRole('button', { name: 'Add field' }).click();
  await expectText(staff, 'Saved.');
  await staff.locator('code', { hasText: 'machine' }).waitFor();
  await bob.goto(`${BASE}/requests/new`);
  await bob.getByLabel('Subject').fill('Drill rig alarm');
  await bob.getByLabel('Description').fill('Alarm 42 on the rig.');
  await bob.getByLabel('Type', { exact: true }).selectOption({ label: 'Incident' });
  await bob.getByLabel(/^Machine serial/).fill('RIG-0042');
  await bob.getByRole('button', { name: 'Submit' }).click();
  await expectText(bob, 'Your request has been sent');
  if ((await bob.locator('#request-type').innerText()).trim() !== 'Incident') throw new Error('the type chosen is not shown');
  await expectText(bob, 'RIG-0042');
  const rigPath = new URL(bob.url()).pathname;
  await staff.goto(`${BASE}${rigPath}`);
  await staff.getByLabel('Type', { exact: true }).selectOption({ label: 'Problem' });
  await staff.getByRole('button', { name: 'Send reply' }).click();
  await expectText(staff, 'Changes saved.');
  if ((await staff.locator('#request-type').innerText()).trim() !== 'Problem') throw new Error('the type staff chose is not shown');
  await expectText(staff, 'Type: Incident → Problem');

  // A phone, 390 px wide: no page scrolls sideways, for staff, customers and visitors alike.
  await step('every page fits a 390 px phone');
  const phone = { width: 390, height: 844 };
  const asStaff = await browser.newContext({ viewport: phone, storageState: await staff.context().storageState() });
  const asAnn = await browser.newContext({ viewport: phone, storageState: await ann.context().storageState() });
  const visitor = await browser.newContext({ viewport: phone });
  const pages = [
    [asStaff, ['/dashboard', '/requests', '/requests?status=all', requestPath, '/approvals', '/invitations', '/staff/sites',
      '/staff/people', '/staff/quick-links', '/staff/statuses', '/staff/plugins', '/staff/decisions', '/staff/audit',
      '/staff/mail', '/staff/mail/received', '/staff/mail/wording', '/staff/branding', '/staff/replies', '/staff/request-fields',
      '/sessions']],
    [asAnn, ['/dashboard', '/requests', '/requests/new', requestPath, '/approvals', '/invitations', '/notifications', '/sessions']],
    [visitor, ['/', '/login', '/join', '/forgot', '/no-such-page']],
    [await browser.newContext({ viewport: phone, storageState: await greta.context().storageState(), locale: 'de-DE' }),
      ['/dashboard', '/requests', '/requests/new', gretaRequest, '/preferences', '/notifications', '/sessions']],
    [await browser.newContext({ viewport: phone, locale: 'de-DE' }), ['/', '/login', '/join', '/forgot', '/no-such-page']],
  ];
  for (const [context, paths] of pages) {
    const p = await context.newPage();
    for (const path of paths) {
      await p.goto(`${BASE}${path}`);
      await fitsWidth(p);
      await audit(p, 'on a phone');
    }
  }

  // Screenshots of the main pages at both sizes, for the documentation, when asked for
  // (HELPDESK_SCREENSHOTS=<folder>).
  const shots = process.env.HELPDESK_SCREENSHOTS;
  if (shots) {
    await step(`screenshots into ${shots}`);
    const views = [
      ['login', null, '/login'],
      ['dashboard', ann, '/dashboard'],
      ['request', ann, requestPath],
      ['new-request', ann, '/requests/new'],
      ['queue', staff, '/requests?status=all'],
      ['desk', staff, `${requestPath}#reply-heading`],
      ['people', staff, '/staff/people'],
      ['plugins', staff, '/staff/plugins'],
      ['request-de', greta, gretaRequest],
    ];
    for (const [size, viewport] of [['desktop', { width: 1366, height: 768 }], ['phone', { width: 390, height: 844 }]]) {
      for (const [name, who, path] of views) {
        const context = await browser.newContext({ viewport, storageState: who ? await who.context().storageState() : undefined });
        const p = await context.newPage();
        await p.goto(`${BASE}${path}`);
        await p.screenshot({ path: `${shots}/${name}-${size}.png` });
        await context.close();
      }
    }
  }

  for (const p of opened) await audit(p, 'at the end');
  if (scriptErrors.length) throw new Error(`the portal's script failed: ${scriptErrors.join('; ')}`);
  console.log('browser flow passed');
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
