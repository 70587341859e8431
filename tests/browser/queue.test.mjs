// queue.test.mjs - the fair queue in the IDE (README "The fair queue"): with
// room for one run on the engines and one long run of another user holding
// it, pressing Run says "Queued (position 1)" in the console and its status
// line; once the other run ends (its user presses Stop), the queued run
// starts and its output arrives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, logIn, createProject, setCode, waitConsole, waitStatus, screenshot, ADMIN } from './lib.mjs';

// One JSON-RPC call over a websocket of the page's own (its session cookie).
async function call(page, method, params) {
  return page.evaluate(
    ([m, p]) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`);
        ws.onopen = () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: m, params: p }));
        ws.onmessage = (e) => {
          const msg = JSON.parse(e.data);
          if (msg.id !== 1) return;
          ws.close();
          if (msg.error) reject(new Error(`${m}: ${msg.error.message}`));
          else resolve(msg.result);
        };
        ws.onerror = () => reject(new Error(`${m}: the websocket failed`));
      }),
    [method, params],
  );
}

describe('the fair queue', () => {
  let browser;
  let admin;
  let holder;
  let user;
  let saved = [];

  before(async () => {
    browser = await launch();
    admin = await newPage(browser);
    holder = await newPage(browser);
    user = await newPage(browser);
    await logIn(admin, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await admin.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    // room for one run: the default engine takes one, the others none
    const { platforms } = await call(admin, 'admin/platform/list', {});
    saved = platforms.filter((p) => p.enabled).map((p) => ({ id: p.id, max: p.max_containers ?? null }));
    for (const p of platforms.filter((x) => x.enabled)) {
      await call(admin, 'admin/platform/update', { id: p.id, max_containers: p.is_default ? 1 : 0 });
    }
    await signUp(holder);
    await signUp(user);
  });

  after(async () => {
    for (const p of saved) await call(admin, 'admin/platform/update', { id: p.id, max_containers: p.max }).catch(() => {});
    await browser?.close();
  });

  it('Run waits with its position while another user’s run holds the only slot, then starts', async () => {
    await createProject(holder, 'Queue holder');
    await setCode(holder, 'import time\nprint("holding", flush=True)\ntime.sleep(120)\n');
    await holder.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(holder, /holding/);

    await createProject(user, 'Queue waiter');
    await setCode(user, 'print("ran after the queue")\n');
    await user.getByRole('button', { name: /^Run/ }).click();
    const status = await waitStatus(user, /Queued \(position 1\)/);
    assert.match(status, /Queued \(position 1\)/);
    const shown = await waitConsole(user, /Queued \(position 1\)/);
    assert.doesNotMatch(shown, /ran after the queue/);
    await screenshot(user, 'queue-position');

    // still waiting a while later: the slot is held
    await user.waitForTimeout(1500);
    assert.match(await user.locator('.run-status').innerText(), /Queued \(position 1\)/);

    await holder.getByRole('button', { name: /^Stop/ }).click();
    await waitConsole(user, /ran after the queue/);
    await waitStatus(user, /Exited with code 0/);
    await screenshot(user, 'queue-started');
    assert.deepEqual(user.problems, []);
  });
});
