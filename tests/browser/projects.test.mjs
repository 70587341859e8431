// projects.test.mjs - the project list: create, rename, public/private,
// fork (also from the gallery), delete with confirmation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, createProject, uniqueName, waitStatus } from './lib.mjs';

describe('projects', () => {
  let browser;
  let page;
  const name = uniqueName('Proj ');
  const renamed = `${name} renamed`;

  before(async () => {
    browser = await launch();
    page = await newPage(browser);
    await signUp(page);
  });

  after(async () => {
    await browser?.close();
  });

  it('creates, renames and makes a project public from the list', async () => {
    await createProject(page, name, 'shell-busybox-1.35');
    await page.getByRole('link', { name: 'Projects' }).click();
    const card = page.locator('article', { hasText: name });
    await card.waitFor();
    await card.getByRole('button', { name: `Rename ${name}` }).click();
    await page.getByRole('dialog').getByLabel('New name').fill(renamed);
    await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
    const card2 = page.locator('article', { hasText: renamed });
    await card2.waitFor();
    await card2.getByRole('switch', { name: 'Public' }).check();
    await page.getByText('The project is public').waitFor();
    // it is in the gallery now
    await page.getByRole('link', { name: 'Gallery' }).click();
    await page.getByLabel('Search').fill(renamed);
    await page.locator('article', { hasText: renamed }).waitFor();
  });

  it('forks from the gallery into an editable copy', async () => {
    const card = page.locator('article', { hasText: renamed });
    await card.getByRole('button', { name: `Fork ${renamed}` }).click();
    await page.getByRole('dialog').getByLabel('Name of your copy').fill(`${renamed} copy`);
    await page.getByRole('dialog').getByRole('button', { name: 'Fork' }).click();
    await page.getByRole('heading', { level: 1, name: `${renamed} copy` }).waitFor();
    await page.locator('.cm-content').waitFor();
    assert.equal(await page.getByRole('button', { name: /^Run/ }).isVisible(), true);
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(page, /Exited with code 0/);
  });

  it('deletes a project only after confirmation', async () => {
    await page.getByRole('link', { name: 'Projects' }).click();
    const card = page.locator('article', { hasText: `${renamed} copy` });
    await card.getByRole('button', { name: `Delete ${renamed} copy` }).click();
    const dlg = page.getByRole('dialog');
    assert.match(await dlg.innerText(), /cannot be undone/);
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await card.waitFor();
    await card.getByRole('button', { name: `Delete ${renamed} copy` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete project' }).click();
    await card.waitFor({ state: 'detached' });
    await page.locator('article', { hasText: renamed }).first().waitFor();
    assert.deepEqual(page.problems, []);
  });
});
