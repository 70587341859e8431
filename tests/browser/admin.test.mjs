// admin.test.mjs - the admin dashboard: an admin sees a user's live run and
// cancels it, the user's page says so; a non-admin opening #/admin gets
// "Not allowed" and nothing of the dashboard.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, logIn, createProject, setCode, waitConsole, waitStatus, screenshot, ADMIN } from './lib.mjs';

describe('the admin dashboard', () => {
  let browser;
  let user;
  let admin;
  let username;

  before(async () => {
    browser = await launch();
    user = await newPage(browser);
    admin = await newPage(browser);
    username = await signUp(user);
  });

  after(async () => {
    await browser?.close();
  });

  it('refuses a non-admin: the page shows "Not allowed" and no admin data', async () => {
    assert.equal(await user.getByRole('link', { name: 'Admin' }).count(), 0);
    await user.goto('/#/admin');
    await user.getByRole('heading', { name: 'Not allowed' }).waitFor();
    assert.equal(await user.locator('#admin-runs').count(), 0);
    assert.equal(await user.getByRole('heading', { name: 'Admin dashboard' }).count(), 0);
    assert.equal(await user.getByRole('tab', { name: 'Users' }).count(), 0);
  });

  it('lets an admin cancel a user’s run, and the user’s page says so', async () => {
    await createProject(user, 'Long runner');
    await setCode(user, 'import time\nprint("still running", flush=True)\ntime.sleep(60)\n');
    await user.getByRole('button', { name: /^Run/ }).click();
    const text = await waitConsole(user, /still running/);
    const runId = Number(/Run #(\d+)/.exec(text)[1]);

    // the run list the dashboard asks for (its start reads it once)
    const listCalls = [];
    admin.on('websocket', (ws) => ws.on('framesent', (f) => {
      if (typeof f.payload === 'string' && f.payload.includes('"admin/run/list"')) listCalls.push(f.payload);
    }));
    await logIn(admin, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await admin.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    const row = admin.locator('#admin-runs tr', { hasText: `#${runId}` });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(username));
    await admin.locator('.metric').first().waitFor();
    await admin.getByText('Live: pushed by the server.').waitFor();
    assert.equal(listCalls.length, 1, `admin/run/list at the dashboard's start: ${listCalls.length} calls`);
    // a second metrics sample for the charts (the page reads /metrics every 2 s)
    await admin.waitForResponse((r) => new URL(r.url()).pathname === '/metrics');
    await screenshot(admin, 'dashboard', { fullPage: true });

    await row.getByRole('button', { name: `Cancel run ${runId} of ${username}` }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Cancel run' }).click();
    await row.waitFor({ state: 'detached' });

    await admin.locator('.event-list li', { hasText: `run #${runId} ended: cancelled` }).waitFor();
    await waitStatus(user, /Cancelled by an admin/);
    await waitConsole(user, /Cancelled by an admin/);
    await screenshot(user, 'user-cancelled');

    // the rest of the live view: open sessions (the user's among them) and platform health
    await admin.locator('#admin-sessions tr', { hasText: username }).first().waitFor();
    await admin.locator('.health-list li', { hasText: /up/ }).first().waitFor();
  });

  it('shows users, runtimes, platforms and settings to the admin', async () => {
    await admin.getByRole('tab', { name: 'Users' }).click();
    await admin.getByLabel('Search').fill(username);
    await admin.locator('tr', { hasText: username }).getByRole('button', { name: `Disable ${username}` }).waitFor();
    await admin.getByRole('tab', { name: 'Runtimes' }).click();
    await admin.locator('tr', { hasText: 'python-3.11' }).waitFor();
    // a runtime made, edited and deleted from the dashboard
    const code = `ui-test-${Date.now().toString(36)}`;
    await admin.getByRole('button', { name: '+ New runtime' }).click();
    let dlg = admin.getByRole('dialog', { name: 'New runtime' });
    await dlg.getByLabel('Code').fill(code);
    await dlg.getByLabel('Name', { exact: true }).fill('UI test runtime');
    await dlg.getByLabel('Language').fill('python');
    await dlg.getByLabel('Version', { exact: true }).fill('3.11');
    await dlg.getByLabel('Image').fill('runit/python:latest');
    await dlg.getByLabel('Run command').fill('["python3", "-u", "main.py"]');
    await dlg.getByLabel('Entry file').fill('main.py');
    await dlg.getByLabel('Template files').fill('{"main.py": "print(1)\\n"}');
    await dlg.getByRole('button', { name: 'Create' }).click();
    const row = admin.locator('tr', { hasText: code });
    await row.waitFor();
    await row.getByRole('button', { name: `Edit ${code}` }).click();
    dlg = admin.getByRole('dialog', { name: `Edit runtime ${code}` });
    await dlg.getByLabel('Run command').fill('not json');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.getByText('Run command: not valid JSON').waitFor();
    await dlg.getByLabel('Run command').fill('["python3", "main.py"]');
    await dlg.getByLabel('Description').fill('Edited from the dashboard');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'detached' });
    await row.getByRole('switch', { name: `${code} enabled` }).uncheck();
    await admin.getByText(`${code} disabled.`).waitFor();
    await row.getByRole('button', { name: `Delete ${code}` }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    await admin.getByRole('tab', { name: 'Platforms' }).click();
    await admin.locator('#apanel-platforms tbody tr').first().waitFor();
    // what the engine is, as the health round read it (/version, /info)
    const engine = admin.locator('#apanel-platforms tbody tr .pf-engine').first();
    for (let i = 0; !/^linux\/\w+ \S+/.test(await engine.innerText()) && i < 20; i++) {
      await admin.waitForTimeout(500);
      await admin.getByRole('tab', { name: 'Settings & FAQ' }).click();
      await admin.getByRole('tab', { name: 'Platforms' }).click();
      await engine.waitFor();
    }
    assert.match(await engine.innerText(), /^linux\/(amd64|arm64) \S+/);
    await admin.getByRole('tab', { name: 'Settings & FAQ' }).click();
    await admin.getByRole('button', { name: 'Save settings' }).waitFor();
    await admin.getByRole('button', { name: 'Save FAQ' }).waitFor();
    assert.deepEqual(admin.problems, []);
    assert.deepEqual(user.problems, []);
  });

  it('keeps the tab the admin picks while the dashboard still loads', async () => {
    // the user names answer late (held 1 s on its way to the server); the
    // admin picks Platforms meanwhile, and it stays picked once they arrive
    const page = await newPage(browser);
    const sent = [];
    await page.routeWebSocket(/\/ws/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage(async (m) => {
        const text = String(m);
        if (text.includes('"method":"admin/user/list"')) await new Promise((r) => setTimeout(r, 1000));
        sent.push(text);
        server.send(m);
      });
    });
    await logIn(page, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await page.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    await page.getByRole('tab', { name: 'Platforms' }).click();
    await page.getByRole('button', { name: '+ New platform' }).waitFor();
    // the dashboard subscribes to live events once it has shown its first tab
    await waitFor(() => sent.some((t) => t.includes('"method":"admin/subscribe"')));
    assert.deepEqual(await page.evaluate(() => [document.querySelector('#apanel-platforms').hidden, document.querySelector('#apanel-overview').hidden]), [false, true]);
    assert.equal(await page.getByRole('tab', { name: 'Platforms' }).getAttribute('aria-selected'), 'true');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

async function waitFor(ok, timeout = 60000) {
  for (const end = Date.now() + timeout; !ok(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
