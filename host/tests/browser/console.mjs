// The operators' plugin console in headless Chromium: an operator uploads a candidate workflow,
// tries a transition on a real request against it and the active workflow, replays the recorded
// decisions, puts it in shadow, moves the request (live traffic), sees the shadow's
// disagreements, promotes it, finds the request's decisions, rolls back, and changes the active
// workflow's settings in the form its plugin describes. Started by
// host/tests/host/browser.rs, which provides BASE_URL, OPERATOR (email; its password is
// PASSWORD and no code is asked), REQUEST (a request id), COMPONENT (a .wasm file) and CHROMIUM.
import { audit, expectText, fitsWidth, launch, stepper, tabTo } from './checks.mjs';

const BASE = process.env.BASE_URL;
const PASSWORD = 'Sunny-Day42';

// Pages the test drives; each is checked with axe-core at every step.
const opened = [];

const step = stepper(opened);
const browser = await launch();

try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15000);
  opened.push(page);

  await step('the operator signs in');
  await page.goto(`${BASE}/login`);
  await page.getByLabel('Email address').fill(process.env.OPERATOR);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();

  await step('Plugins: upload a candidate workflow');
  await page.getByRole('link', { name: 'Plugins', exact: true }).click();
  await expectText(page, 'Install a plugin');
  await page.getByLabel('Slot').selectOption('ticket-workflow');
  await page.getByLabel('Component (.wasm)').setInputFiles(process.env.COMPONENT);
  await page.getByRole('button', { name: 'Install' }).click();
  await expectText(page, 'Installed #');
  const notice = await page.getByRole('status').first().innerText();
  const id = notice.match(/#(\d+)/)[1];

  await step(`Try #${id}: a transition on a real request, next to the active workflow`);
  await page.getByRole('link', { name: new RegExp(`^Try #${id} `) }).click();
  await expectText(page, 'This plugin takes no settings.');
  await page.getByLabel('Request').fill(`REQ-${process.env.REQUEST}`);
  await page.getByLabel('Move to status').fill('on-hold');
  await page.getByLabel('Asked by').selectOption('agent');
  await page.getByRole('button', { name: 'Ask both' }).click();
  await expectText(page, 'can-transition');
  const answers = await page.getByRole('row', { name: /^Answer/ }).innerText();
  if (!answers.includes('refused') || !answers.includes('allowed')) {
    throw new Error(`the candidate should refuse what the active workflow allows: ${answers}`);
  }

  await step('replay the recorded decisions');
  await page.getByRole('button', { name: 'Replay recorded decisions' }).click();
  await expectText(page, 'Replayed ');

  await step('put the candidate in shadow');
  await page.getByRole('link', { name: 'Back to Plugins' }).click();
  await page.getByRole('button', { name: new RegExp(`^Shadow #${id} `) }).click();
  await expectText(page, `Plugin #${id} is in shadow for ticket-workflow`);

  await step('live traffic: the request is put on hold under the active workflow');
  await page.goto(`${BASE}/requests/${process.env.REQUEST}`);
  await page.getByLabel('Status', { exact: true }).selectOption('on-hold');
  await page.getByRole('button', { name: 'Send reply' }).click();
  await expectText(page, 'On Hold');

  await step('the shadow disagreed: counted on Plugins, listed beside the live answers');
  let counted = '';
  for (let i = 0; i < 50; i++) {
    await page.goto(`${BASE}/staff/plugins`);
    counted = await page.locator('div.shadow').first().innerText();
    if (/Disagreed on [1-9]\d* of/.test(counted)) break;
    await page.waitForTimeout(200);
  }
  if (!/Disagreed on [1-9]\d* of/.test(counted)) {
    throw new Error(`no disagreement counted: ${counted}`);
  }
  await page.getByRole('link', { name: 'See the disagreements' }).click();
  await expectText(page, 'Shadow disagreements');
  const table = await page.getByRole('table').innerText();
  if (!table.includes('on-hold') || !table.includes('allowed') || !table.includes('refused')) {
    throw new Error(`the disagreement should show the live "allowed" beside the shadow's "refused": ${table}`);
  }

  await step('promote the shadow');
  await page.getByRole('link', { name: 'Plugins', exact: true }).click();
  await page.getByRole('button', { name: 'Promote the shadow to active' }).click();
  await expectText(page, `Plugin #${id} now serves ticket-workflow on every server`);

  await step('the request links to its decisions');
  await page.goto(`${BASE}/requests/${process.env.REQUEST}`);
  await page.getByRole('link', { name: 'Plugin decisions about this request' }).click();
  await expectText(page, 'react');

  await step('roll back');
  await page.getByRole('link', { name: 'Plugins', exact: true }).click();
  await page.getByRole('button', { name: 'Roll back ticket-workflow' }).click();
  await expectText(page, 'ticket-workflow is back on plugin #');

  await step('edit the active workflow\'s settings in its form, and activate them');
  await page.getByRole('link', { name: /^Try #\d+ workflow-default$/ }).first().click();
  const window = page.getByLabel('Reopen window (days)');
  if ((await window.inputValue()) !== '14') {
    throw new Error(`the form should show the default reopen window, 14: ${await window.inputValue()}`);
  }
  await window.fill('30');
  await page.getByRole('button', { name: 'Save the settings as a new installation' }).click();
  await expectText(page, '+ reopen-window-days = 30');
  if ((await page.getByLabel('Reopen window (days)').inputValue()) !== '30') {
    throw new Error('the form should keep the saved value');
  }
  await page.getByRole('button', { name: /^Activate #\d+/ }).click();
  await expectText(page, 'now serves ticket-workflow on every server');
  for (const p of opened) await audit(p, 'at the end');
  console.log('console flow passed');
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
