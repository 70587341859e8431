// tty.test.mjs - the console is a terminal (issue 12): a run from the IDE
// has a pseudo-terminal, so Ctrl+C interrupts a Python loop
// (KeyboardInterrupt), Ctrl+C with text selected copies it instead, Ctrl+D
// ends input, output keeps the order the program wrote it, and resizing the
// console changes what `stty size` says inside the run.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, createProject, setCode, consoleText, waitConsole, waitStatus, screenshot } from './lib.mjs';

describe('the console is a terminal', () => {
  let browser;
  let page;

  before(async () => {
    browser = await launch();
    page = await newPage(browser, { width: 1400, height: 860 });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await signUp(page);
    await createProject(page, 'Terminal');
    await page.getByRole('button', { name: 'main.py', exact: true }).waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  async function runCode(code) {
    await page.getByRole('button', { name: 'Clear the console' }).click();
    await setCode(page, code);
    await page.getByRole('button', { name: /^Run/ }).click();
  }

  it('keeps stdout and stderr in the order written, and isatty() is true', async () => {
    await runCode('import os, sys\nprint("tty", os.isatty(0), os.isatty(1), os.isatty(2))\nfor i in range(5):\n    print("out", i)\n    print("err", i, file=sys.stderr)\n');
    await waitStatus(page, /Exited with code 0/);
    const text = await consoleText(page);
    assert.match(text, /tty True True True\nout 0\nerr 0\nout 1\nerr 1\nout 2\nerr 2\nout 3\nerr 3\nout 4\nerr 4\n/, text);
  });

  it('interrupts a Python loop with Ctrl+C (KeyboardInterrupt shown)', async () => {
    await runCode('import time\nprint("looping", flush=True)\nwhile True:\n    time.sleep(0.1)\n');
    await waitConsole(page, /looping/);
    await waitStatus(page, /Running…/);
    await page.locator('.console-host').click();
    await page.keyboard.press('Control+c');
    const text = await waitConsole(page, /KeyboardInterrupt/);
    assert.match(text, /Traceback \(most recent call last\)/, text);
    await waitStatus(page, /Exited with code/);
    await screenshot(page, 'tty-ctrl-c');
  });

  it('copies the selection with Ctrl+C instead of interrupting', async () => {
    await runCode('import time\nprint("copyme", flush=True)\nwhile True:\n    time.sleep(0.1)\n');
    await waitConsole(page, /copyme/);
    await waitStatus(page, /Running…/);
    // a double click selects the word in the terminal (at its place on the
    // screen: xterm's screen layer takes the mouse)
    const box = await page.locator('.console-host .xterm-rows span', { hasText: 'copyme' }).first().boundingBox();
    await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.press('Control+c');
    await page.locator('.console-hint', { hasText: 'Copied the selection' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'copyme');
    // the program went on: no interrupt reached it
    await page.waitForTimeout(1000);
    assert.doesNotMatch(await consoleText(page), /KeyboardInterrupt/);
    assert.match(await page.locator('.run-status').innerText(), /Running…/);
    // the selection is gone after the copy: the next Ctrl+C interrupts
    await page.keyboard.press('Control+c');
    await waitConsole(page, /KeyboardInterrupt/);
    await waitStatus(page, /Exited with code/);
  });

  it('ends input with Ctrl+D', async () => {
    await runCode('import sys\nprint("type", flush=True)\ndata = sys.stdin.read()\nprint("got", repr(data))\n');
    await waitConsole(page, /^type$/m);
    await page.locator('.console-host').click();
    await page.keyboard.type('abc');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+d');
    const text = await waitConsole(page, /got 'abc\\n'/);
    assert.match(text, /\nabc\ngot 'abc\\n'/, text); // the terminal echoed the line once
    await waitStatus(page, /Exited with code 0/);
  });

  it('changes `stty size` when the console is resized', async () => {
    await runCode('import subprocess, sys\nwhile sys.stdin.readline():\n    print("size", subprocess.run(["stty", "size"], capture_output=True, text=True).stdout.strip(), flush=True)\n');
    await waitStatus(page, /Running…/);
    await page.locator('.console-host').click();
    const sizes = async () => [...(await consoleText(page)).matchAll(/size (\d+) (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    await page.keyboard.press('Enter');
    await waitConsole(page, /size \d+ \d+/);
    const [first] = await sizes();
    assert.ok(first[0] > 3 && first[1] > 20, `first size ${first}`);
    // another window size: the console refits, the run is told
    await page.setViewportSize({ width: 900, height: 700 });
    let last = first;
    for (let i = 0; i < 40 && last[0] === first[0] && last[1] === first[1]; i++) {
      await page.waitForTimeout(250);
      await page.keyboard.press('Enter');
      await page.waitForTimeout(250);
      const all = await sizes();
      last = all[all.length - 1];
    }
    assert.notDeepEqual(last, first, `the size did not change: ${first}`);
    // the run's terminal has the console's rows
    const rows = await page.locator('.console-host .xterm-rows').evaluate((e) => e.children.length);
    assert.equal(last[0], rows, `stty says ${last}, the console has ${rows} rows`);
    await screenshot(page, 'tty-resized');
    await page.keyboard.press('Control+d');
    await waitStatus(page, /Exited with code 0/);
    await page.setViewportSize({ width: 1400, height: 860 });
  });

  it('has no page errors', async () => {
    assert.deepEqual(page.problems, []);
  });
});
