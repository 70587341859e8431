// front.test.mjs - the front door (issue 13): a visitor who has not signed
// in sees what run-it is, the gallery, Sign up / Log in and Help; opens a
// public project read-only (files, and the latest run's output once the
// owner shares it) and is asked to log in to fork it. Dark mode follows
// prefers-color-scheme and the toggle, remembered in this browser for a
// visitor and with the account for a user. A rate-limited login says how
// long to wait. Screenshots of each page, light and dark, wide and phone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, newPage, signUp, createProject, setCode, waitConsole, waitStatus, screenshot, uniqueName, PASSWORD, RUN_TIMEOUT } from './lib.mjs';

const axePath = path.join(process.env.RUNIT_UI_NODE_MODULES || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../ui/node_modules'), 'axe-core', 'axe.min.js');

async function axe(page, label) {
  await page.addScriptTag({ path: axePath });
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${label}: ${JSON.stringify(bad, null, 2)}`);
}

const bg = (page, sel) => page.locator(sel).first().evaluate((e) => getComputedStyle(e).backgroundColor);
// a colour's lightness, 0 (black) to 255 (white)
const light = (rgb) => {
  const [r, g, b] = rgb.match(/\d+/g).map(Number);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};

describe('the front door, the visitor view and dark mode', () => {
  let browser;
  let owner;
  let visitor;
  let ownerName;
  let projectId;
  const projectName = `Front door ${Date.now().toString(36)}`;

  before(async () => {
    browser = await launch();
    owner = await newPage(browser);
    visitor = await newPage(browser, { bypassCSP: true });
  });

  after(async () => {
    await browser?.close();
  });

  it('an owner publishes a project and the output of its runs', async () => {
    ownerName = await signUp(owner);
    projectId = await createProject(owner, projectName);
    await setCode(owner, 'print("shown to visitors")\n');
    await owner.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(owner, /Exited with code 0/);
    await owner.getByRole('switch', { name: 'Public', exact: true }).check();
    await owner.getByText('The project is public: it is listed in the gallery.').waitFor();
    await owner.getByRole('switch', { name: 'Share output' }).check();
    await owner.getByText('Visitors now see the output of the latest run.').waitFor();
  });

  it('shows a signed-out visitor what run-it is, the gallery, Sign up, Log in and Help', async () => {
    await visitor.goto('/');
    await visitor.getByRole('heading', { level: 1, name: 'Write code. Press Run. Watch it run.' }).waitFor();
    for (const name of ['Sign up', 'Log in', 'Browse the gallery', 'Help and FAQ']) assert.ok(await visitor.getByRole('link', { name, exact: true }).first().isVisible(), name);
    // the top bar has Help too, and no login form stands in the way
    assert.ok(await visitor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Help' }).isVisible());
    assert.equal(await visitor.getByLabel('Password', { exact: true }).count(), 0);
    await visitor.getByRole('heading', { name: projectName }).waitFor();
    assert.equal(visitor.problems.length, 0, visitor.problems.join('\n'));
    await axe(visitor, 'front door');
  });

  it('opens a public project read-only without an account, with its latest run', async () => {
    await visitor.getByRole('link', { name: `View ${projectName}` }).click();
    await visitor.getByRole('heading', { level: 1, name: projectName }).waitFor();
    await visitor.getByText(/you are not signed in/).waitFor();
    // the files and the code
    await visitor.getByRole('treeitem', { name: 'main.py' }).waitFor();
    await visitor.locator('.cm-content', { hasText: 'shown to visitors' }).waitFor();
    assert.match(await visitor.locator('.cm-content').getAttribute('aria-label'), /main\.py \(read-only\)/);
    // no Run for a visitor; the owner's latest run in the console
    assert.equal(await visitor.getByRole('button', { name: /^Run/ }).isVisible(), false);
    await waitConsole(visitor, /Latest run #\d+[\s\S]*shown to visitors[\s\S]*Exited with code 0/);
    await waitStatus(visitor, /Latest run: Exited with code 0/);
    await axe(visitor, 'visitor IDE');
    await screenshot(visitor, 'front-visitor-ide');
    assert.equal(visitor.problems.length, 0, visitor.problems.join('\n'));
  });

  it('asks a visitor to log in to fork, then forks', async () => {
    await visitor.getByRole('button', { name: 'Log in to fork' }).click();
    await visitor.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.match(visitor.url(), new RegExp(`next=%23%2Fp%2F${projectId}`));
    // a new account comes back to the project and can fork it now
    await visitor.getByRole('link', { name: 'Create an account' }).click();
    await visitor.getByLabel('User name').fill(uniqueName('fv'));
    await visitor.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await visitor.getByLabel('Repeat the password').fill(PASSWORD);
    await visitor.getByRole('button', { name: 'Create account' }).click();
    await visitor.getByRole('heading', { level: 1, name: projectName }).waitFor();
    await visitor.getByRole('button', { name: 'Fork', exact: true }).first().click();
    const dlg = visitor.getByRole('dialog');
    await dlg.getByRole('button', { name: /Fork/ }).click();
    await visitor.waitForURL((u) => !u.hash.endsWith(`/p/${projectId}`) && /#\/p\/\d+$/.test(u.hash));
    await visitor.getByRole('button', { name: /^Run/ }).waitFor();
  });

  it('cuts a visitor off when the project is made private', async () => {
    const anon = await newPage(browser);
    await anon.goto(`/#/p/${projectId}`);
    await anon.locator('.cm-content', { hasText: 'shown to visitors' }).waitFor();
    await owner.getByRole('switch', { name: 'Public', exact: true }).uncheck();
    await anon.getByRole('heading', { name: 'This project is not available any more' }).waitFor();
    await anon.reload();
    await anon.getByRole('heading', { name: 'Project not found' }).waitFor();
    await owner.getByRole('switch', { name: 'Public', exact: true }).check();
    await owner.getByText('The project is public: it is listed in the gallery.').last().waitFor();
    await anon.context().close();
  });

  it('has help where people look: the FAQ and the shortcuts', async () => {
    const page = await newPage(browser, { bypassCSP: true });
    await page.goto('/');
    await page.getByRole('link', { name: 'Help and FAQ' }).click();
    await page.getByRole('heading', { level: 1, name: 'Help' }).waitFor();
    await page.getByRole('cell', { name: 'Run the project (again: replaces the running program)' }).waitFor();
    await page.locator('.faq-item summary').first().waitFor();
    await page.getByLabel('Language').selectOption('python-3.11');
    await page.waitForFunction(() => document.querySelectorAll('.faq').length === 2 && document.querySelectorAll('.faq')[1].textContent.length > 0);
    await axe(page, 'help');
    await page.context().close();
  });

  it('follows prefers-color-scheme: pages, editor and console', async () => {
    const page = await newPage(browser, { bypassCSP: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`/#/p/${projectId}`);
    await page.locator('.cm-content', { hasText: 'shown to visitors' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.ok(light(await bg(page, 'body')) < 60, 'page is dark');
    assert.ok(light(await bg(page, '.cm-editor')) < 60, 'editor is dark');
    assert.ok(light(await bg(page, '.console-host .xterm-viewport')) < 60, 'console is dark');
    await axe(page, 'visitor IDE, dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    assert.ok(light(await bg(page, 'body')) > 200, 'page is light');
    assert.ok(light(await bg(page, '.cm-editor')) > 200, 'editor is light');
    await page.waitForFunction(() => {
      const c = getComputedStyle(document.querySelector('.console-host .xterm-viewport')).backgroundColor;
      return c === 'rgb(251, 252, 253)';
    });
    await page.context().close();
  });

  it('remembers the toggle for a visitor (this browser) and for a user (the account)', async () => {
    // a visitor: localStorage, across a reload
    const context = await browser.newContext({ baseURL: process.env.RUNIT_URL, colorScheme: 'light' });
    const page = await context.newPage();
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Write code. Press Run. Watch it run.' }).waitFor();
    const toggle = page.getByRole('button', { name: 'Dark mode' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    assert.equal(await page.getByRole('button', { name: 'Dark mode' }).getAttribute('aria-pressed'), 'true');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Write code. Press Run. Watch it run.' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await context.close();

    // a user: prefs/set, then another browser (a fresh context) logs in and gets it
    const u1 = await newPage(browser);
    await u1.emulateMedia({ colorScheme: 'light' });
    const name = await signUp(u1);
    await u1.getByRole('button', { name: 'Dark mode' }).click();
    await u1.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    const prefs = await u1.evaluate(() => window.runit.rpc.call('prefs/get'));
    assert.deepEqual(prefs, { prefs: { theme: 'dark' } });
    const u2 = await newPage(browser, { bypassCSP: true });
    await u2.emulateMedia({ colorScheme: 'light' });
    await u2.goto('/#/login');
    assert.equal(await u2.evaluate(() => document.documentElement.dataset.theme), 'light');
    await u2.getByLabel('User name').fill(name);
    await u2.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await u2.getByRole('button', { name: 'Log in' }).click();
    await u2.getByRole('heading', { name: 'Your projects' }).waitFor();
    await u2.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await axe(u2, 'projects, dark');
    await u1.context().close();
    await u2.context().close();
  });

  it('says how long to wait when logging in is rate-limited', async () => {
    const page = await newPage(browser);
    const name = await signUp(page);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    // real failed logins until the server's lock on the name is a few seconds long
    const wait = await page.evaluate(async (user) => {
      for (let i = 0; i < 40; i++) {
        const r = await fetch('/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: user, password: 'wrong password 1' }) });
        if (r.status === 429) {
          const s = (await r.json()).error.retry_after_s;
          if (s >= 4) return s;
          await new Promise((res) => setTimeout(res, s * 1000 + 100));
        }
      }
      return 0;
    }, name);
    assert.ok(wait >= 4, `no lock of 4 s or more (${wait})`);
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const msg = page.getByRole('alert').filter({ hasText: /Too many attempts to log in\. Please wait \d+ s before trying again\./ });
    await msg.waitFor();
    const first = Number(/wait (\d+) s/.exec(await msg.innerText())[1]);
    assert.ok(first >= 1 && first <= wait, `${first} s of ${wait}`);
    assert.equal(await page.getByRole('button', { name: 'Log in' }).isDisabled(), true);
    await screenshot(page, 'front-login-rate-limited');
    // it counts down, then lets the user try again, and the login works
    await page.getByText('You can try to log in again now.').waitFor({ timeout: (wait + 5) * 1000 });
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Your projects' }).waitFor();
    await page.context().close();
  });

  it('takes screenshots of each page, light and dark, wide and phone', async () => {
    const pages = [
      ['home', '/', (p) => p.getByRole('heading', { level: 1, name: 'Write code. Press Run. Watch it run.' })],
      ['gallery', '/#/gallery', (p) => p.getByRole('heading', { name: projectName })],
      ['help', '/#/help', (p) => p.getByRole('heading', { level: 1, name: 'Help' })],
      ['login', '/#/login', (p) => p.getByRole('heading', { name: 'Log in' })],
      ['visitor-ide', `/#/p/${projectId}`, (p) => p.locator('.cm-content', { hasText: 'shown to visitors' })],
    ];
    for (const [w, hgt, size] of [[1440, 900, 'wide'], [390, 844, 'phone']]) {
      for (const scheme of ['light', 'dark']) {
        const page = await newPage(browser, { width: w, height: hgt });
        await page.emulateMedia({ colorScheme: scheme });
        for (const [name, url, ready] of pages) {
          await page.goto(url);
          await ready(page).waitFor();
          assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), scheme, name);
          await screenshot(page, `front-${name}-${scheme}-${size}`);
        }
        await page.context().close();
        // the owner's pages (brought to the front: a page in the background
        // renders no frames, and media queries are evaluated when it does)
        await owner.bringToFront();
        await owner.setViewportSize({ width: w, height: hgt });
        await owner.emulateMedia({ colorScheme: scheme });
        await owner.goto('/#/');
        // a reload reads the emulated scheme at start: a hash change alone
        // relies on a media change event, which a loaded machine may not
        // deliver to a page that was in the background
        await owner.reload();
        await owner.getByRole('heading', { name: 'Your projects' }).waitFor();
        await owner.waitForFunction((t) => document.documentElement.dataset.theme === t, scheme, { polling: 200 });
        await screenshot(owner, `front-projects-${scheme}-${size}`);
        await owner.goto(`/#/p/${projectId}`);
        await owner.locator('.cm-content', { hasText: 'shown to visitors' }).waitFor();
        await screenshot(owner, `front-ide-${scheme}-${size}`);
        await owner.goto('/#/account');
        await owner.getByRole('heading', { name: 'Account' }).waitFor();
        await screenshot(owner, `front-account-${scheme}-${size}`);
      }
    }
    assert.equal(owner.problems.length, 0, owner.problems.join('\n'));
  });
});
