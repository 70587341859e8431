// pool.test.mjs - the per-user resource pool in the UI: an admin gives a
// user a CPU pool of one CPU in the users table; the user's first run takes
// it, and a second project's Run says that the first project's run holds
// the pool (POOL_FULL, with the holder); once the first run ends, the
// second runs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, logIn, createProject, setCode, waitConsole, waitStatus, screenshot, ADMIN } from './lib.mjs';

describe('the per-user resource pool', () => {
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

  it('an admin sets a user’s CPU pool; a run that does not fit names what holds it', async () => {
    await logIn(admin, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await admin.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    await admin.getByRole('tab', { name: 'Users' }).click();
    await admin.locator('#user-q').fill(username);
    const cpu = admin.getByLabel(`CPU pool in millicores for ${username} (empty: the default)`);
    await cpu.waitFor();
    await cpu.fill('1000');
    await admin.getByRole('button', { name: `Save quotas of ${username}` }).click();
    await admin.getByText(`Quotas of ${username} saved.`).waitFor();
    // the table is read again: the saved budget is what it shows
    await admin.waitForFunction((name) => [...document.querySelectorAll('input.quota')].some((i) => i.getAttribute('aria-label') === `CPU pool in millicores for ${name} (empty: the default)` && i.value === '1000'), username);

    await createProject(user, 'Pool holder');
    await setCode(user, 'import time\nprint("holding", flush=True)\ntime.sleep(20)\n');
    await user.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(user, /holding/);
    const heldSince = Date.now();

    await createProject(user, 'Pool waiter');
    await setCode(user, 'print("ran after all")\n');
    await user.getByRole('button', { name: /^Run/ }).click();
    const status = await waitStatus(user, /Could not start/);
    assert.match(status, /“Pool holder”|"Pool holder"/);
    assert.match(status, /CPU pool/);
    assert.match(status, /Held by/);
    await screenshot(user, 'pool-full');

    // the holder ends (its program's 20 s are over): its share comes back
    await user.waitForTimeout(Math.max(0, heldSince + 26000 - Date.now()));
    await user.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(user, /ran after all/);
  });
});
