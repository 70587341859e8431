// collab.test.mjs - more than one browser on a project: a second context
// shows up in presence, a public project opens read-only for others (with
// Fork), and an edit made while this page was offline is merged with one
// made meanwhile elsewhere (live co-editing, issue 14).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, logIn, createProject, setCode, waitStatus } from './lib.mjs';

describe('collaboration', () => {
  let browser;
  let owner;
  let visitor;
  let ownerName;
  let visitorName;
  let projectId;
  const projectName = `Shared ${Date.now().toString(36)}`;

  before(async () => {
    browser = await launch();
    owner = await newPage(browser);
    visitor = await newPage(browser);
    ownerName = await signUp(owner);
    visitorName = await signUp(visitor);
  });

  after(async () => {
    await browser?.close();
  });

  it('opens a public project read-only for others, with Fork, and shows them in presence', async () => {
    projectId = await createProject(owner, projectName);
    await owner.getByRole('switch', { name: 'Public' }).check();
    await owner.getByText('The project is public').waitFor();

    await visitor.goto('/#/gallery');
    await visitor.getByLabel('Search').fill(projectName);
    const card = visitor.locator('article', { hasText: projectName });
    await card.getByRole('link', { name: `View ${projectName}` }).click();
    await visitor.locator('.cm-content').waitFor();
    await visitor.getByText('Read-only.').waitFor();
    assert.match(await visitor.locator('.ide-readonly').innerText(), new RegExp(`${ownerName}’s public project`));
    assert.equal(await visitor.getByRole('button', { name: /^Run/ }).count(), 0);
    assert.equal(await visitor.locator('.cm-content').getAttribute('aria-readonly'), 'true');
    await visitor.getByRole('button', { name: 'Fork' }).first().waitFor();

    // the owner's page names the visitor (presence/changed)
    await owner.locator('.presence-list', { hasText: visitorName }).waitFor();
    // and the visitor's page names the owner
    await visitor.locator('.presence-list', { hasText: ownerName }).waitFor();
  });

  it('merges an edit made offline with the one made meanwhile elsewhere (live co-editing)', async () => {
    // a second tab of the owner
    const tab2 = await newPage(browser);
    await logIn(tab2, ownerName, undefined, `/#/login?next=${encodeURIComponent(`#/p/${projectId}`)}`);
    await tab2.locator('.cm-content').waitFor();

    // the first tab goes offline and edits there
    await owner.context().setOffline(true);
    await owner.evaluate(() => window.runit.rpc.ws.close());
    await owner.locator('#banner', { hasText: 'Offline' }).waitFor();
    await setCode(owner, 'print("mine")\n');

    // meanwhile the second tab edits too (live: saved as it types)
    await setCode(tab2, 'print("theirs")\n');
    await tab2.locator('.save-state', { hasText: 'Saved' }).waitFor();

    // back online: the first tab rejoins from its version, receives the
    // other edit, rebases its own over it; both tabs end with both
    await owner.context().setOffline(false);
    await owner.evaluate(() => window.runit.rpc.connectNow());
    for (const p of [owner, tab2]) {
      await p.locator('.ide-editor .cm-content', { hasText: 'print("mine")' }).waitFor();
      await p.locator('.ide-editor .cm-content', { hasText: 'print("theirs")' }).waitFor();
    }
    await owner.locator('.save-state', { hasText: 'Saved' }).waitFor();
    assert.equal(await owner.locator('.conflict-bar').isHidden(), true);
    assert.deepEqual(owner.problems, []);
    await tab2.close();
  });

  it('creates, renames and deletes files and folders from the tree', async () => {
    const dlg = () => owner.getByRole('dialog');
    await owner.getByRole('button', { name: 'New folder' }).click();
    await dlg().getByLabel('Folder path').fill('lib');
    await dlg().getByRole('button', { name: 'Create' }).click();
    await owner.getByRole('treeitem', { name: 'lib' }).click();
    await owner.getByRole('button', { name: 'New file' }).click();
    assert.equal(await dlg().getByLabel('Path').inputValue(), 'lib/');
    await dlg().getByLabel('Path').fill('lib/util.py');
    await dlg().getByRole('button', { name: 'Create' }).click();
    await owner.getByRole('button', { name: 'lib/util.py', exact: true }).waitFor();
    await setCode(owner, 'def greet():\n    return "hi from util"\n');
    await owner.keyboard.press('Control+s');
    await owner.locator('.save-state', { hasText: 'Saved' }).waitFor();

    // rename the folder: its files move with it
    await owner.getByRole('treeitem', { name: 'lib' }).first().click();
    await owner.keyboard.press('F2');
    await dlg().getByLabel(/New path/).fill('pkg');
    await dlg().getByRole('button', { name: 'Rename' }).click();
    await owner.getByRole('treeitem', { name: 'util.py' }).waitFor();
    await owner.getByRole('treeitem', { name: 'pkg' }).waitFor();
    assert.equal(await owner.getByRole('treeitem', { name: 'lib' }).count(), 0);

    // the moved module is used by a run
    await owner.getByRole('treeitem', { name: 'main.py' }).click();
    await setCode(owner, 'import sys\nsys.path.insert(0, "pkg")\nimport util\nprint(util.greet())\n');
    await owner.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(owner, /Exited with code 0/);

    // delete the folder (with confirmation)
    await owner.getByRole('treeitem', { name: 'pkg' }).first().click();
    await owner.getByRole('button', { name: /^Delete the selected/ }).click();
    await dlg().getByRole('button', { name: 'Delete' }).click();
    await owner.getByRole('treeitem', { name: 'pkg' }).waitFor({ state: 'detached' });
    assert.equal(await owner.getByRole('treeitem', { name: 'util.py' }).count(), 0);
    assert.deepEqual(owner.problems, []);
  });
});
