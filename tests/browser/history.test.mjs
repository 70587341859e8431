// history.test.mjs - going back (issue 18): a file's history dialog shows an
// earlier version beside the current text in CodeMirror's merge view,
// "Restore this version" puts it back in the editor as a new version, and a
// past run's code is restored from run History after a confirmation that
// lists what changes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, newPage, signUp, createProject, setCode, waitStatus, screenshot, BASE, TIMEOUT } from './lib.mjs';

const axePath = path.join(process.env.RUNIT_UI_NODE_MODULES || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../ui/node_modules'), 'axe-core', 'axe.min.js');

async function saveEditor(page) {
  await page.keyboard.press('Control+s');
  await page.locator('.save-state', { hasText: /^Saved$/ }).waitFor();
}

// file/read through the page's own websocket (what the server has)
function readFile(page, project, path, version) {
  return page.evaluate(([p, f, v]) => window.runit.rpc.call('file/read', v ? { project: p, path: f, version: v } : { project: p, path: f }), [project, path, version]);
}

describe('going back', () => {
  let browser;
  let page;
  let projectId;

  before(async () => {
    browser = await launch();
    page = await newPage(browser);
    await signUp(page);
  });

  after(async () => {
    await browser?.close();
  });

  it('shows a file version beside the current text and restores it', async () => {
    projectId = await createProject(page, 'Going back');
    await setCode(page, 'print("one")\n');
    await saveEditor(page);
    // a run keeps this code
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(page, /Exited with code 0 in/);
    await setCode(page, 'print("two")\n');
    await saveEditor(page);
    const before = await readFile(page, projectId, 'main.py');
    assert.equal(before.content, 'print("two")\n');

    await page.getByRole('button', { name: 'File history of main.py' }).click();
    const dlg = page.getByRole('dialog', { name: 'History of main.py' });
    await dlg.waitFor();
    // newest first: the current version, then the earlier ones
    const items = dlg.locator('.versions-item');
    await items.nth(2).waitFor();
    const labels = await items.locator('.versions-v').allInnerTexts();
    assert.match(labels[0], new RegExp(`Version ${before.version}\\s*current`));
    // live edits (issue 14) keep the text of each pause in typing, not every keystroke
    assert.match(labels[1], /^Version \d+$/);
    const earlier = Number(/\d+/.exec(labels[1])[0]);
    // the newest earlier version is shown against the current text
    const left = dlg.locator('.cm-merge-a .cm-content');
    const right = dlg.locator('.cm-merge-b .cm-content');
    await left.filter({ hasText: 'print("one")' }).waitFor();
    assert.match(await right.innerText(), /print\("two"\)/);
    assert.ok((await dlg.locator('.cm-changedLine, .cm-changedText').count()) > 0, 'the changed line is marked');
    assert.equal(await items.nth(1).getAttribute('aria-pressed'), 'true');
    await screenshot(page, 'file-history');

    // the template version, then back to version N-1, and restore it
    await items.nth(2).click();
    await left.filter({ hasText: 'Hello' }).waitFor();
    await items.nth(1).click();
    await left.filter({ hasText: 'print("one")' }).waitFor();
    await dlg.getByRole('button', { name: 'Restore this version' }).click();
    await dlg.waitFor({ state: 'detached' });
    await page.locator('.ide-editor .cm-content', { hasText: 'print("one")' }).waitFor();
    await page.locator('.toast', { hasText: `Restored version ${earlier} of main.py` }).waitFor();
    await page.locator('.save-state', { hasText: /^Saved$/ }).waitFor();
    // a new version on the server; the replaced text stays in the history
    const now = await readFile(page, projectId, 'main.py');
    assert.equal(now.version, before.version + 1);
    assert.equal(now.content, 'print("one")\n');
    assert.equal((await readFile(page, projectId, 'main.py', before.version)).content, 'print("two")\n');
  });

  it("restores a run's code after listing the files added, changed and removed", async () => {
    // after the run: main.py changes, extra.py is new
    await setCode(page, 'print("three")\n');
    await saveEditor(page);
    await page.getByRole('button', { name: 'New file' }).click();
    const nf = page.getByRole('dialog', { name: 'New file' });
    await nf.getByLabel('Path').fill('extra.py');
    await nf.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'extra.py', exact: true }).first().waitFor();

    await page.getByRole('tab', { name: 'History' }).click();
    await page.locator('.history-item').first().click();
    await page.getByRole('button', { name: 'Restore this run’s code' }).click();
    const dlg = page.getByRole('dialog', { name: /^Restore the code of run #\d+\?$/ });
    await dlg.waitFor();
    const text = (await dlg.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /Files changed \(1\) .*main\.py/);
    assert.match(text, /Files removed \(1\) .*extra\.py/);
    assert.doesNotMatch(text, /Files added/);
    await screenshot(page, 'run-restore-confirm');
    await dlg.getByRole('button', { name: 'Restore this run’s code' }).click();
    await dlg.waitFor({ state: 'detached' });

    // the editor shows the run's code, extra.py is gone from the tree
    await page.getByRole('button', { name: 'main.py', exact: true }).first().click();
    await page.locator('.ide-editor .cm-content', { hasText: 'print("one")' }).waitFor();
    await page.locator('.tree-host').getByText('extra.py').waitFor({ state: 'detached' });
    const files = await page.evaluate((p) => window.runit.rpc.call('file/list', { project: p }), projectId);
    assert.deepEqual(files.files.map((f) => f.path), ['main.py']);
    assert.equal((await readFile(page, projectId, 'main.py')).content, 'print("one")\n');
    await screenshot(page, 'run-restored');
  });

  it('has no serious axe violations in the history dialog', async () => {
    // axe is injected with the page's CSP bypassed, as in a11y.test.mjs
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: BASE, bypassCSP: true });
    const p = await context.newPage();
    p.setDefaultTimeout(TIMEOUT);
    await signUp(p);
    await createProject(p, 'Going back a11y');
    await setCode(p, 'print("a")\n');
    await saveEditor(p);
    await p.getByRole('button', { name: 'File history of main.py' }).click();
    const dlg = p.getByRole('dialog', { name: 'History of main.py' });
    await dlg.locator('.cm-merge-a .cm-content', { hasText: 'Hello' }).waitFor();
    await p.addScriptTag({ path: axePath });
    const bad = await p.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const res = await axe.run(document.querySelector('dialog[open]'), { resultTypes: ['violations'] });
      return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    assert.deepEqual(bad, []);
    await context.close();
  });
});
