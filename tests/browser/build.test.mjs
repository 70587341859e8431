// build.test.mjs - a Go project in the IDE: a compile error says "Build
// failed" in the status and in History, with the compiler's output in the
// console; fixed, it builds and runs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, createProject, setCode, waitConsole, waitStatus, screenshot } from './lib.mjs';

describe('a build in the IDE', () => {
  let browser;
  let page;

  before(async () => {
    browser = await launch();
    page = await newPage(browser);
    await signUp(page);
    await createProject(page, 'Hello Go', 'go-1.19');
    await page.getByRole('button', { name: 'main.go', exact: true }).click();
  });

  after(async () => {
    await browser?.close();
  });

  it('says Build failed and shows the compiler output', async () => {
    await setCode(page, 'package main\n\nfunc main() {\n\tundefinedThing()\n}\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(page, /^\s*Build failed\s*$/);
    await waitConsole(page, /main\.go:4:\d+: undefined: undefinedThing/);
    await screenshot(page, 'build-failed');
  });

  it('builds and runs once the code is fixed, and History names both', async () => {
    await setCode(page, 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("fixed and built")\n}\n');
    await page.getByRole('button', { name: /^Run/ }).click();
    await waitStatus(page, /Exited with code 0/);
    await waitConsole(page, /fixed and built/);
    await page.getByRole('tab', { name: 'History' }).click();
    const items = page.locator('.history-item');
    await items.nth(1).waitFor();
    const all = (await page.locator('.history-list').innerText()).replace(/\s+/g, ' ');
    assert.match(all, /Build failed/);
    assert.match(all, /Exited with code 0/);
    assert.deepEqual(page.problems, []);
  });
});
