// shape.test.mjs - the IDE shaped and taken away (issue 13): the dividers
// drag and are remembered across a reload, the console maximises, a phone
// keeps Run in reach and shows the console after Run, the console's text
// is copied, the project downloads as a .zip (unpacked and checked here) and
// a run's log as a text file, and the status counts the elapsed time while
// a program runs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, newPage, signUp, createProject, setCode, waitConsole, waitStatus, screenshot, RUN_TIMEOUT } from './lib.mjs';

const width = (page, sel) => page.locator(sel).evaluate((e) => e.getBoundingClientRect().width);

describe('the IDE shaped and taken away', () => {
  let browser;
  let page;
  let projectId;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runit-shape-'));

  before(async () => {
    browser = await launch();
    page = await newPage(browser, { width: 1440, height: 900 });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  });

  after(async () => {
    await browser?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('drags the dividers and keeps the widths across a reload', async () => {
    await signUp(page);
    projectId = await createProject(page, 'Shape me');
    const panel0 = await width(page, '.ide-panel');
    const side0 = await width(page, '.ide-side');
    const div = page.getByRole('separator', { name: 'Resize the console' });
    const box = await div.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x - 150, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    const panel1 = await width(page, '.ide-panel');
    assert.ok(Math.abs(panel1 - (panel0 + 150)) <= 4, `console ${panel0} -> ${panel1}`);
    // the file tree by keyboard
    await page.getByRole('separator', { name: 'Resize the file tree' }).focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    const side1 = await width(page, '.ide-side');
    assert.ok(Math.abs(side1 - (side0 + 48)) <= 4, `tree ${side0} -> ${side1}`);
    await page.reload();
    await page.locator('.cm-content').waitFor();
    assert.ok(Math.abs((await width(page, '.ide-panel')) - panel1) <= 2, 'console width kept');
    assert.ok(Math.abs((await width(page, '.ide-side')) - side1) <= 2, 'tree width kept');
    assert.equal(await page.getByRole('separator', { name: 'Resize the console' }).getAttribute('aria-valuenow'), String(Math.round(panel1)));
  });

  it('maximises the console and restores it, remembered', async () => {
    await page.getByRole('button', { name: 'Maximise the console' }).click();
    assert.equal(await page.locator('.ide-editor').isVisible(), false);
    const full = await width(page, '.ide-panel');
    assert.ok(full > 1300, `maximised console ${full}`);
    await screenshot(page, 'shape-console-maximised');
    await page.reload();
    await page.getByRole('button', { name: 'Restore the editor beside the console' }).click();
    await page.locator('.cm-content').waitFor();
    assert.ok(await page.locator('.ide-editor').isVisible());
  });

  it('counts the elapsed time while a program runs', async () => {
    await setCode(page, ['import time', 'for i in range(12):', '    print("tick", i, flush=True)', '    time.sleep(0.5)', ''].join('\n'));
    // every text the status shows, from Run to the end (the server sends
    // "stopping" when a program ends by itself too)
    await page.evaluate(() => {
      window.statusSeen = [];
      const el = document.querySelector('.run-status-text');
      new MutationObserver(() => window.statusSeen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitConsole(page, /tick 1\b/);
    const el = page.locator('.run-elapsed');
    const read = async () => Number(/([\d.]+) s/.exec(await el.innerText())[1]);
    const a = await read();
    await page.waitForTimeout(700);
    const b = await read();
    assert.ok(b > a + 0.3, `elapsed ${a} then ${b}`);
    await screenshot(page, 'shape-elapsed');
    await waitStatus(page, /Exited with code 0 in/);
    assert.equal(await el.innerText(), '');
    // the program ended by itself: the status never said "Stopping…"
    const seen = await page.evaluate(() => window.statusSeen);
    assert.ok(seen.includes('Running…'), JSON.stringify(seen));
    assert.ok(!seen.some((t) => /Stopping/.test(t)), JSON.stringify(seen));
  });

  it('copies the console text', async () => {
    await page.getByRole('button', { name: 'Copy the console’s text' }).click();
    await page.getByText(/Copied \d+ lines\./).waitFor();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(clip, /tick 0\ntick 1\n[\s\S]*tick 11\n[\s\S]*Exited with code 0/);
  });

  it('downloads the project as a .zip with every file', async () => {
    // a second file in a folder, and an unsaved edit of main.py (what you see is what you get)
    await page.getByRole('button', { name: 'New file' }).click();
    const dlg = page.getByRole('dialog', { name: 'New file' });
    await dlg.getByLabel('Path').fill('lib/util.py');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'lib/util.py', exact: true }).waitFor();
    await setCode(page, 'X = "ünïcode"\n');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download', exact: true }).click()]);
    assert.equal(dl.suggestedFilename(), 'Shape-me.zip');
    const file = path.join(tmp, 'project.zip');
    await dl.saveAs(file);
    const listing = JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', 'import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))', file]).toString(),
    );
    assert.deepEqual(Object.keys(listing).sort(), ['Shape-me/lib/util.py', 'Shape-me/main.py']);
    assert.equal(listing['Shape-me/lib/util.py'], 'X = "ünïcode"\n');
    assert.match(listing['Shape-me/main.py'], /print\("tick", i, flush=True\)/);
    // unzip agrees (CRCs checked)
    const out = execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-t', file]).toString();
    assert.match(out, /Done testing/);
  });

  it('downloads one run’s log from History', async () => {
    await page.getByRole('tab', { name: 'History' }).click();
    await page.locator('.history-item').first().click();
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Download the log of run \d+/ }).click()]);
    assert.match(dl.suggestedFilename(), /^Shape-me-run-\d+\.log\.txt$/);
    const file = path.join(tmp, 'run.log');
    await dl.saveAs(file);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^tick 0\ntick 1\n/);
    assert.match(text, /tick 11\n\[Exited with code 0 in [\d.]+ s\]\n$/);
    // the old run's code opens on the entry file
    assert.equal(await page.locator('.history-detail select, .history-detail code').first().evaluate((e) => e.value ?? e.textContent), 'main.py');
    await page.getByRole('tab', { name: 'Console' }).click();
  });

  it('keeps Run in reach on a phone and brings the console into view after Run', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.locator('.cm-content').waitFor();
    await page.getByRole('button', { name: 'main.py', exact: true }).click();
    await setCode(page, `print("${'long line '.repeat(20)}end")\nprint("phone run")\n`);
    // the editor scrolls sideways instead of cutting the line
    const sc = await page.locator('.cm-scroller').evaluate((e) => ({ sw: e.scrollWidth, cw: e.clientWidth, ox: getComputedStyle(e).overflowX }));
    assert.ok(sc.sw > sc.cw && sc.ox === 'auto', JSON.stringify(sc));
    const run = page.getByRole('button', { name: /^Run/ });
    const inView = async (loc) => loc.evaluate((e) => {
      const r = e.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;
    });
    // scrolled down to the bottom of the page, Run is still on screen
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    assert.ok((await page.evaluate(() => window.scrollY)) > 200, 'the page scrolls on a phone');
    assert.ok(await inView(run), 'Run visible at the bottom of the page');
    await page.evaluate(() => window.scrollTo(0, 0));
    assert.ok(await inView(run), 'Run visible at the top');
    await run.click();
    await waitStatus(page, /Exited with code 0/);
    await waitConsole(page, /phone run/);
    const top = await page.locator('.ide-panel').evaluate((e) => e.getBoundingClientRect().top);
    assert.ok(top >= 0 && top < 844 / 2, `console top at ${top}`);
    assert.ok(await inView(run), 'Run visible after Run');
    await screenshot(page, 'shape-phone-after-run');
    assert.equal(page.problems.length, 0, page.problems.join('\n'));
  });
});
