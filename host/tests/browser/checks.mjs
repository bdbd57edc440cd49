// Checks the browser tests run on every page state they reach: axe-core's rules (zero
// violations), and on a phone-sized window, that nothing is wider than the screen. Also what
// every browser test does the same way: start Chromium, mark its steps, wait for a text.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

// Headless Chromium at `CHROMIUM`, with nothing of its own on the network.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// A step marker: the state every page of `opened` reached so far is checked first.
export function stepper(opened) {
  return async (what) => {
    for (const p of opened) await audit(p, `before "${what}"`);
    console.log(`step: ${what}`);
  };
}

export async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ state: 'visible' });
}

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Page states already checked, by address and content, so a state revisited costs nothing.
const seen = new Set();

async function settled(page, check) {
  for (let attempt = 0; ; attempt++) {
    try {
      await page.waitForLoadState('load');
      return await check();
    } catch (e) {
      // The page moved on while it was being read: read it again once it has loaded.
      if (attempt < 3 && /context was destroyed|navigat|Target closed/i.test(String(e))) continue;
      throw e;
    }
  }
}

// Runs axe-core (injected through the debugging protocol, so the portal's CSP stays as it is)
// on the page as it is now; any violation fails the test, naming the rule and the elements.
export async function audit(page, where) {
  if (page.isClosed() || !page.url().startsWith('http')) return;
  await settled(page, async () => {
    const key = `${page.url()} ${await page.evaluate(() => document.documentElement.outerHTML.length)}`;
    if (seen.has(key)) return;
    if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE);
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    if (result.violations.length) {
      const lines = result.violations.map((v) =>
        `${v.id} (${v.impact}): ${v.help}\n      ${v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' ' + n.failureSummary.replace(/\s+/g, ' ')).join('\n      ')}`);
      throw new Error(`accessibility violations ${where} at ${page.url()}:\n  ${lines.join('\n  ')}`);
    }
    seen.add(key);
  });
}

// Fails when the page scrolls sideways: something on it is wider than the window.
export async function fitsWidth(page) {
  const widths = await settled(page, () => page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: window.innerWidth,
    widest: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + String(e.className).split(' ').join('.') : ''}`),
  })));
  if (widths.page > widths.window) {
    throw new Error(`${page.url()} is ${widths.page} px wide in a ${widths.window} px window: ${widths.widest.join(', ')}`);
  }
}

// Presses Tab until the focused element is called `name` (its label, its text or its
// aria-label), as someone without a mouse reaches it; fails when Tab never gets there.
export async function tabTo(page, name) {
  const visited = [];
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return '';
      const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
      return (e.getAttribute('aria-label') || label || e.innerText || e.value || '').trim();
    });
    if (here === name) return;
    visited.push(here);
  }
  throw new Error(`Tab never reaches "${name}" on ${page.url()}; it went through: ${visited.join(' | ')}`);
}
