// ide.test.mjs - the IDE end to end: sign up, create a Python project, type
// code, Run, see the output (blank lines, stderr in order, ANSI colours), Run
// again while it runs (the first run is replaced), stdin, Stop, reload and
// find the runs in History, and resume after the websocket drops.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, createProject, setCode, consoleText, waitConsole, waitStatus, screenshot, RUN_TIMEOUT } from './lib.mjs';

describe('the IDE', () => {
  let browser;
  let page;

  before(async () => {
    browser = await launch();
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close();
  });

  it('signs up and creates a Python project from the runtime picker', async () => {
    await signUp(page);
    await page.getByRole('button', { name: '+ New project' }).click();
    const dlg = page.getByRole('dialog', { name: 'New project' });
    // the picker shows name, version, OS, arch and description
    const card = dlg.locator('label.runtime-card', { has: page.locator('input[value="python-3.11"]') });
    await card.waitFor();
    const text = await card.innerText();
    assert.match(text, /Python 3\.11/);
    assert.match(text, /version 3\.11/);
    assert.match(text, /debian-12/);
    assert.match(text, /amd64/);
    assert.match(text, /CPython/);
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await createProject(page, 'Hello Python');
    // the template's entry file is open, highlighted as Python
    await page.getByRole('button', { name: 'main.py', exact: true }).waitFor();
    await page.locator('.cm-content .ͼ1, .cm-content span[class]').first().waitFor();
    await page.getByRole('button', { name: /^Run/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Stop/ }).isDisabled(), true);
    await screenshot(page, 'ide');
  });

  it('runs typed code and shows its output exactly', async () => {
    await setCode(
      page,
      ['import sys', 'print("hello from run-it")', 'print()', 'print("after a blank line")', 'print("to stderr", file=sys.stderr, flush=True)', 'print("\\x1b[32mgreen text\\x1b[0m")', ''].join('\n'),
    );
    // unsaved mark until autosave
    await page.getByRole('button', { name: /Run/ }).first().click();
    await waitStatus(page, /Exited with code 0 in/);
    const text = await waitConsole(page, /green text/);
    assert.match(text, /hello from run-it\n\nafter a blank line\n/, `blank line kept:\n${text}`);
    // a terminal: stderr in its place among stdout (not told apart), ANSI colours pass through
    assert.match(text, /after a blank line\nto stderr\n.*green text/s);
    const green = await page.locator('.xterm-rows span', { hasText: 'green text' }).first().evaluate((e) => getComputedStyle(e).color);
    // the console theme's green: the dark one's, or the light one's (ide/console.js)
    assert.ok(['rgb(86, 211, 100)', 'rgb(17, 99, 41)'].includes(green), green);
    // the code was saved with the run
    await page.locator('.save-state', { hasText: 'Saved' }).waitFor();
    await screenshot(page, 'console-after-run');
  });

  it('replaces a running run when Run is pressed again', async () => {
    await page.getByRole('button', { name: 'Clear the console' }).click();
    await setCode(page, 'import time\nprint("first run started", flush=True)\ntime.sleep(60)\n');
    await page.keyboard.press('Control+Enter');
    await waitConsole(page, /first run started/);
    await waitStatus(page, /Running…/);
    assert.equal(await page.getByRole('button', { name: /^Stop/ }).isDisabled(), false);
    await setCode(page, 'print("second run output")\n');
    await page.keyboard.press('Control+Enter');
    const text = await waitConsole(page, /second run output/);
    assert.match(text, /Replaced by a newer run/);
    await waitStatus(page, /Exited with code 0/);
    assert.ok(text.indexOf('Replaced by a newer run') < text.indexOf('second run output'), text);
  });

  it('sends typed input to the program', async () => {
    await setCode(page, 'name = input("Your name? ")\nprint("Hello, " + name + "!")\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(page, /Your name\?/);
    await page.locator('.console-host').click();
    await page.keyboard.type('Ada');
    await page.keyboard.press('Enter');
    await waitConsole(page, /Hello, Ada!/);
    await waitStatus(page, /Exited with code 0/);
  });

  it('stops a run with Stop', async () => {
    await setCode(page, 'import time\nprint("waiting for Stop", flush=True)\ntime.sleep(60)\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(page, /waiting for Stop/);
    await page.getByRole('button', { name: /^Stop/ }).click();
    await waitStatus(page, /^\s*Stopped\s*$/);
    assert.equal(await page.getByRole('button', { name: /^Stop/ }).isDisabled(), true);
  });

  it('resumes a live run after the connection drops, without losing or repeating output', async () => {
    await page.getByRole('button', { name: 'Clear the console' }).click();
    await setCode(page, 'import time\nfor i in range(14):\n    print(f"tick {i:02}", flush=True)\n    time.sleep(0.25)\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(page, /tick 02/);
    const banner = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const off = window.runit.rpc.onState((s) => {
            if (s === 'offline') {
              off();
              // the page's own listener (added first) has drawn the banner already
              resolve(document.getElementById('banner').innerText);
            }
          });
          window.runit.rpc.ws.close();
        }),
    );
    assert.match(banner, /Offline/);
    await page.locator('#banner').waitFor({ state: 'hidden' });
    await waitStatus(page, /Exited with code 0/);
    const text = await consoleText(page);
    for (let i = 0; i < 14; i++) {
      const n = text.split(`tick ${String(i).padStart(2, '0')}`).length - 1;
      assert.equal(n, 1, `tick ${i} appears ${n} times:\n${text}`);
    }
  });

  it('gives runs the environment variables from the Env panel', async () => {
    await page.getByRole('tab', { name: 'Env' }).click();
    await page.getByRole('button', { name: '+ Add variable' }).click();
    await page.getByLabel('Variable name').last().fill('GREETING');
    await page.getByLabel('Value of GREETING').fill('hello from env');
    await page.getByRole('button', { name: 'Save variables' }).click();
    await page.getByText('Environment variables saved').waitFor();
    await page.getByRole('tab', { name: 'Console' }).click();
    await setCode(page, 'import os\nprint("env says", os.environ["GREETING"])\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(page, /env says hello from env/);
  });

  it('says in words how a run ended: output limit, out of memory, timeout', async () => {
    await setCode(page, 'import sys\nfor i in range(100):\n    sys.stdout.write("x" * 100000 + "\\n")\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(page, /^\s*Output limit reached\s*$/);
    await setCode(page, 'import time\nchunks = []\nwhile True:\n    chunks.append(bytearray(32 * 1024 * 1024))\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(page, /^\s*Out of memory\s*$/);
    await setCode(page, 'import time\nprint("sleeping", flush=True)\ntime.sleep(600)\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(page, /^\s*Timed out after \d+ s\s*$/, 2 * RUN_TIMEOUT); // the runtime's wall limit, then the run's end
  });

  it('shows a visible notice when output was skipped (run/gap)', async () => {
    // the server sends run/gap when this page could not keep up; feed one in
    const run = Number(/Run #(\d+)/.exec([...(await consoleText(page)).matchAll(/Run #\d+/g)].pop()[0])[1]);
    await page.evaluate((id) => window.runit.rpc.receive(JSON.stringify({ jsonrpc: '2.0', method: 'run/gap', params: { run: id, from: 900, to: 950 } })), run);
    await page.getByRole('alert').filter({ hasText: 'output' }).filter({ hasText: 'skipped' }).waitFor();
    await waitConsole(page, /#900–#950\) skipped/);
  });

  it('lists the runs in History after a reload, with their code and log', async () => {
    await page.reload();
    await page.locator('.cm-content').waitFor();
    await page.getByRole('tab', { name: 'History' }).click();
    const items = page.locator('.history-item');
    await items.nth(5).waitFor();
    const all = (await page.locator('.history-list').innerText()).replace(/\s+/g, ' ');
    assert.match(all, /Replaced by a newer run/);
    assert.match(all, /Stopped/);
    assert.match(all, /Exited with code 0/);
    // the first run: its code (read-only, copyable) and its output
    await items.last().click();
    await page.locator('.history-detail .cm-content').waitFor();
    assert.match(await page.locator('.history-detail .cm-content').innerText(), /hello from run-it/);
    assert.equal(await page.locator('.history-detail .cm-content').getAttribute('aria-readonly'), 'true');
    await page.getByRole('button', { name: 'Copy code' }).waitFor();
    await page.locator('.history-log', { hasText: 'after a blank line' }).waitFor();
    await screenshot(page, 'history');
    // only output and the end: no state names; the terminal's \r\n read as lines
    const log = await page.locator('.history-log').innerText();
    assert.match(log, /after a blank line\nto stderr\n/, log);
    assert.doesNotMatch(log, /\r/, log);
    assert.match(log, /\[Exited with code 0 in [^\]]+\]\s*$/, log);
    assert.doesNotMatch(log, /queued|starting|running/, log);
    await page.getByRole('button', { name: '← All runs' }).click();
    await items.first().waitFor();
    assert.deepEqual(page.problems, []);
  });
});
