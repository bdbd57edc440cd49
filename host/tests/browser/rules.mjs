// Rules that act, in headless Chromium: an operator installs a workflow through the console,
// sets its renewals agent and a reminder after 5 days in the settings form, tries the creation
// of a request against it and activates it; a customer whose site's contract ends this month
// raises a request, which the agent finds urgent, tagged `renewal` and assigned to them, while
// the workflow calls the webhook receiver the operator registered first (by its number); the
// agent's reply waits for the customer with two timers, and once the desk's clock has moved a
// week on, the customer has been reminded (the test reads the email) and the request is closed
// by the workflow. Started by host/tests/host/browser.rs, which provides BASE_URL, OPERATOR, AGENT,
// AGENT_ID, AGENT_NAME, CUSTOMER (emails; the password is PASSWORD and no code is asked), REQUEST
// (a request of the customer's), COMPONENT (a .wasm file), CHROMIUM, WEBHOOK_URL (a receiver the
// operator registers for every event) and SECRET_FILE (where the secret the page shows once is
// written for the test to check signatures with), and moves the clock a week on when the agent's
// internal note says "A week passes.".
import { writeFileSync } from 'node:fs';
import { audit, expectText, launch, stepper } from './checks.mjs';

const BASE = process.env.BASE_URL;
const PASSWORD = 'Sunny-Day42';
// Pages the test drives; each is checked with axe-core at every step.
const opened = [];
const step = stepper(opened);

async function signIn(page, email) {
  await page.goto(`${BASE}/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
}

const browser = await launch();

async function newPage() {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15000);
  opened.push(page);
  return page;
}

try {
  const ops = await newPage();
  await step('the operator registers a webhook receiver for every event');
  await signIn(ops, process.env.OPERATOR);
  await ops.getByRole('link', { name: 'Webhooks', exact: true }).click();
  await ops.getByLabel('URL').fill(process.env.WEBHOOK_URL);
  await ops.getByLabel('Every event').check();
  await ops.getByLabel('Description').fill('CRM');
  await ops.getByRole('button', { name: 'Add the endpoint' }).click();
  await expectText(ops, 'Signing secret');
  writeFileSync(process.env.SECRET_FILE, (await ops.locator('#webhook-secret').innerText()).trim());
  await ops.getByRole('link', { name: process.env.WEBHOOK_URL }).click();
  await expectText(ops, 'Every event');
  const endpoint = ops.url();
  const number = (await ops.locator('#webhook-number').innerText()).match(/^(\d+)/)[1];

  await step('installs the workflow');
  await ops.getByRole('link', { name: 'Plugins', exact: true }).click();
  await ops.getByLabel('Slot').selectOption('ticket-workflow');
  await ops.getByLabel('Component (.wasm)').setInputFiles(process.env.COMPONENT);
  await ops.getByRole('button', { name: 'Install' }).click();
  await expectText(ops, 'Installed #');
  const id = (await ops.getByRole('status').first().innerText()).match(/#(\d+)/)[1];

  await step('names the renewals agent, a reminder after 5 days and the webhook to call in its settings form');
  await ops.getByRole('link', { name: new RegExp(`^Try #${id} `) }).click();
  await ops.getByLabel('Renewals agent').fill(process.env.AGENT_ID);
  await ops.getByLabel('Remind after (days)').fill('5');
  await ops.getByLabel('Renewals webhook').fill(number);
  await ops.getByRole('button', { name: 'Save the settings as a new installation' }).click();
  await expectText(ops, `+ renewal-agent = ${process.env.AGENT_ID}`);
  await expectText(ops, '+ remind-after-days = 5');
  await expectText(ops, `+ renewal-webhook = ${number}`);
  const configured = (await ops.getByRole('button', { name: /^Activate #\d+/ }).innerText()).match(/#(\d+)/)[1];

  await step('tries a new request of a renewal site against it: the actions, none applied');
  await ops.goto(`${BASE}/staff/plugins/${configured}/try`);
  await ops.getByLabel('Request').fill(`REQ-${process.env.REQUEST}`);
  await ops.getByLabel('Or: after the event').selectOption('created');
  await ops.getByRole('button', { name: 'Ask both' }).click();
  await expectText(ops, 'react');
  const answers = await ops.getByRole('row', { name: /^Answer/ }).innerText();
  for (const wanted of ['set-priority', 'urgent', 'renewal', `"staff":${process.env.AGENT_ID}`, `"endpoint":${number}`]) {
    if (!answers.replaceAll(' ', '').includes(wanted.replaceAll(' ', ''))) {
      throw new Error(`the candidate's answer should hold ${wanted}: ${answers}`);
    }
  }

  await step('activates it');
  await ops.getByRole('link', { name: 'Back to Plugins' }).click();
  await ops.getByRole('button', { name: new RegExp(`^Activate #${configured} `) }).click();
  await expectText(ops, 'now serves ticket-workflow on every server');


  const customer = await newPage();
  await step('the customer raises a request');
  await signIn(customer, process.env.CUSTOMER);
  await customer.getByRole('link', { name: 'New request' }).first().click();
  await customer.getByLabel('Subject').fill('Renew our maintenance contract');
  await customer.getByLabel('Description').fill('Our contract ends this month; please send a quote.');
  await customer.getByRole('button', { name: 'Submit' }).click();
  await customer.waitForURL(/\/requests\/\d+/);
  const request = customer.url().match(/\/requests\/(\d+)/)[1];
  await expectText(customer, 'Urgent');

  const agent = await newPage();
  await step('the agent finds it urgent, tagged and theirs in the queue');
  await signIn(agent, process.env.AGENT);
  await agent.goto(`${BASE}/requests?assignee=me`);
  const row = agent.getByRole('row', { name: /Renew our maintenance contract/ });
  const shown = await row.innerText();
  if (!shown.includes('Urgent') || !shown.includes('renewal')) {
    throw new Error(`the queue should show the priority and the tag: ${shown}`);
  }
  await row.getByRole('link', { name: 'Renew our maintenance contract' }).click();
  await expectText(agent, 'Priority: Normal → Urgent');
  const assignee = await agent.locator('#request-assignee').innerText();
  if (assignee !== process.env.AGENT_NAME) throw new Error(`assigned to ${assignee}`);

  await step('the agent replies: the request waits for the customer, with timers');
  await agent.getByLabel('Message').fill('Here is the quote for another year.');
  await agent.getByRole('button', { name: 'Send reply' }).click();
  await expectText(agent, 'Waiting for Customer');
  await expectText(agent, 'remind-if-silent');
  await expectText(agent, 'close-if-silent');
  // The note tells the test to move the desk's clock a week on.
  await agent.getByLabel('Internal note', { exact: true }).check();
  await agent.getByLabel('Message').fill('A week passes.');
  await agent.getByRole('button', { name: 'Add internal note' }).click();
  await expectText(agent, 'A week passes.');

  await step('a week of silence later, the workflow has reminded the customer and closed it');
  let status = '';
  for (let i = 0; i < 100; i++) {
    await agent.goto(`${BASE}/requests/${request}`);
    if (agent.url().includes('/login')) await signIn(agent, process.env.AGENT);
    if (!agent.url().endsWith(`/requests/${request}`)) await agent.goto(`${BASE}/requests/${request}`);
    status = await agent.locator('#request-status').innerText();
    if (status === 'Closed') break;
    await agent.waitForTimeout(200);
  }
  if (status !== 'Closed') throw new Error(`the request should be closed: ${status}`);
  await expectText(agent, 'Workflow, after timer');

  await step('the webhook log shows each change delivered, and the workflow\'s call');
  let log = '';
  for (let i = 0; i < 100; i++) {
    // A week on, the operator's session has lapsed: they sign in again.
    await ops.goto(endpoint);
    if (ops.url().includes('/login')) {
      await signIn(ops, process.env.OPERATOR);
      await ops.goto(endpoint);
    }
    const table = ops.locator('#deliveries');
    log = (await table.count()) > 0 ? await table.innerText() : '';
    if (log.includes('status-changed') && !log.includes('pending')) break;
    await ops.waitForTimeout(200);
  }
  for (const wanted of ['created', 'field-changed', 'assigned', 'staff-replied', 'status-changed', 'workflow-call', 'delivered']) {
    if (!log.includes(wanted)) throw new Error(`the delivery log should show ${wanted}: ${log}`);
  }
  for (const p of opened) await audit(p, 'at the end');
  console.log('rules flow passed');
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
