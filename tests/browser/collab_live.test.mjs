// collab_live.test.mjs - live co-editing (issue 14): two browser contexts,
// the project's owner and an editor, type into one file at the same time;
// each sees the other's text and cursor (with the name), both end with the
// same text, which is what the server holds.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, createProject, screenshot } from './lib.mjs';

// The editor's text as shown (its lines, without the others' name labels).
function docText(page) {
  return page.locator('.ide-editor .cm-content').evaluate((el) =>
    [...el.querySelectorAll('.cm-line')]
      .map((l) => {
        const c = l.cloneNode(true);
        c.querySelectorAll('.cm-remote-caret').forEach((x) => x.remove());
        return c.textContent;
      })
      .join('\n'),
  );
}

function readFile(page, project, path) {
  return page.evaluate(([p, f]) => window.runit.rpc.call('file/read', { project: p, path: f }), [project, path]);
}

async function waitFor(fn, what, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`not in ${timeout} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('live co-editing', () => {
  let browser;
  let owner;
  let editor;
  let ownerName;
  let editorName;

  before(async () => {
    browser = await launch();
    owner = await newPage(browser);
    editor = await newPage(browser);
    ownerName = await signUp(owner);
    editorName = await signUp(editor);
  });

  after(async () => {
    await browser?.close();
  });

  it("shows each other's typing and cursors, and converges on the server's text", async () => {
    const projectId = await createProject(owner, `Live ${Date.now().toString(36)}`);
    await owner.evaluate(([id, name]) => window.runit.rpc.call('project/share', { id, username: name, role: 'editor' }), [projectId, editorName]);
    await editor.goto(`/#/p/${projectId}`);
    await editor.locator('.ide-editor .cm-content').waitFor();
    await waitFor(async () => (await docText(editor)) === (await docText(owner)) && (await docText(owner)) !== null, 'the same text on both pages');

    // both type at once: the owner at the start, the editor at the end (at
    // one same place, concurrent keystrokes interleave, as they should)
    for (const [p, key] of [[owner, 'Control+Home'], [editor, 'Control+End']]) {
      await p.locator('.ide-editor .cm-content').click();
      await p.keyboard.press(key);
    }
    await Promise.all([
      owner.keyboard.type('owner was here 😀\n', { delay: 40 }),
      editor.keyboard.type('\neditor typed this', { delay: 40 }),
    ]);
    const both = (t) => t && t.includes('owner was here 😀') && t.includes('editor typed this');
    await waitFor(async () => both(await docText(owner)) && both(await docText(editor)), "each other's text on both pages");
    await waitFor(async () => (await docText(owner)) === (await docText(editor)), 'one text on both pages');
    const text = await docText(owner);
    await waitFor(async () => (await readFile(owner, projectId, 'main.py')).content === text, "the server's text is the pages' text");

    // each page shows the other's cursor, named
    await owner.locator('.cm-remote-name', { hasText: editorName }).waitFor();
    await editor.locator('.cm-remote-name', { hasText: ownerName }).waitFor();
    await screenshot(owner, 'collab-live');
    assert.equal(await owner.locator('.cm-remote-name', { hasText: ownerName }).count(), 0, 'not my own cursor');
    assert.deepEqual(owner.problems, []);
    assert.deepEqual(editor.problems, []);
  });
});
