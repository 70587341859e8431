// a11y.test.mjs - accessibility and narrow windows: axe-core finds no
// serious or critical problem on the main pages (labels, names, contrast,
// ARIA), the IDE is usable by keyboard (Run by shortcut, tree keys, panel
// tabs), and at phone width nothing needs horizontal scrolling.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, newPage, signUp, logIn, createProject, waitStatus, screenshot, ADMIN, BASE, TIMEOUT } from './lib.mjs';

const axePath = path.join(process.env.RUNIT_UI_NODE_MODULES || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../ui/node_modules'), 'axe-core', 'axe.min.js');

// axe is injected with the page's CSP bypassed (it is a test tool, not part
// of the page); the page itself runs under the server's CSP as always.
async function axe(page, label) {
  await page.addScriptTag({ path: axePath });
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${label}: ${JSON.stringify(bad, null, 2)}`);
  return r;
}

// the layout settles after a resize: ask until it fits, then say by how much it did not
async function noHorizontalScroll(page, label) {
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const deadline = Date.now() + 10000;
  let over = await overflow();
  while (over > 1 && Date.now() < deadline) {
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    over = await overflow();
  }
  assert.ok(over <= 1, `${label}: the page is ${over}px wider than the window`);
}

describe('accessibility and narrow windows', () => {
  let browser;
  let page;

  before(async () => {
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: BASE, bypassCSP: true });
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
  });

  after(async () => {
    await browser?.close();
  });

  it('has no serious axe violations on the account pages and project list', async () => {
    await page.goto('/#/login');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await axe(page, 'login');
    await signUp(page);
    await axe(page, 'projects');
    await page.goto('/#/account');
    await page.getByRole('cell', { name: 'This browser', exact: true }).waitFor();
    await axe(page, 'account');
  });

  it('has no serious axe violations in the IDE and works from the keyboard', async () => {
    await createProject(page, 'Keyboard only');
    await page.locator('.xterm-rows').waitFor();
    await axe(page, 'ide');
    // Run by shortcut from the editor
    await page.locator('.cm-content').focus();
    await page.keyboard.press('Control+Enter');
    await waitStatus(page, /Exited with code 0/);
    // tree: focus the item, F2 opens the rename dialog, Escape closes it
    await page.getByRole('treeitem', { name: 'main.py' }).focus();
    await page.keyboard.press('F2');
    await page.getByRole('dialog', { name: 'Rename file' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    // panel tabs with the arrow keys
    await page.getByRole('tab', { name: 'Console' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'History' }).getAttribute('aria-selected'), 'true');
    await page.locator('.history-item').first().waitFor();
    await axe(page, 'ide history');
    await page.keyboard.press('ArrowRight');
    await page.getByRole('button', { name: '+ Add variable' }).waitFor();
    await axe(page, 'ide env');
    await page.keyboard.press('ArrowRight');
    await page.locator('.faq-item').first().waitFor();
    await axe(page, 'ide faq');
  });

  it('fits a phone-sized window', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('tab', { name: 'Console' }).click();
    await page.getByRole('tab', { name: 'Console', selected: true }).waitFor();
    await noHorizontalScroll(page, 'ide');
    await page.getByRole('button', { name: /^Run/ }).waitFor();
    assert.ok(await page.getByRole('button', { name: /^Run/ }).isVisible());
    await screenshot(page, 'ide-narrow', { fullPage: true });
    await page.goto('/#/');
    await page.getByRole('heading', { name: 'Your projects' }).waitFor();
    await noHorizontalScroll(page, 'projects');
    await page.goto('/#/account');
    await page.getByRole('heading', { name: 'Account' }).waitFor();
    await noHorizontalScroll(page, 'account');
  });

  it('has no serious axe violations on the admin dashboard', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await logIn(page, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await page.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    await page.locator('.metric').first().waitFor();
    await axe(page, 'admin overview');
    for (const tab of ['Users', 'Runtimes', 'Platforms', 'Settings & FAQ']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.locator('.admin-panel:not([hidden]) table, .admin-panel:not([hidden]) form').first().waitFor();
      await axe(page, `admin ${tab}`);
    }
  });
});
