// images.test.mjs - nothing offered that cannot run (issue 12): a runtime
// whose image is missing is shown disabled in the New project picker, with
// the reason; the admin dashboard shows "image missing" live when the image
// goes away, and the admin's Build (images/build for a test tag, never
// runit/*:latest) streams its output and makes it present again.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { launch, newPage, signUp, logIn, screenshot, ADMIN, TIMEOUT } from './lib.mjs';

const TAG = `btest-${process.pid}`;
const MISSING = `runit/shell:${TAG}-never`; // never made
const LIVE = `runit/shell:${TAG}-live`; // made, removed, built by the admin
const DB = process.env.RUNIT_DATABASE_URL;

function psql(sql, ...vars) {
  const args = [DB, '-XAtq', '-v', 'ON_ERROR_STOP=1'];
  vars.forEach((v, i) => args.push('-v', `v${i + 1}=${v}`));
  return execFileSync('psql', args, { input: sql, encoding: 'utf8' });
}

function docker(...args) {
  return spawnSync('docker', args, { encoding: 'utf8' });
}

function addRuntime(code, name, image) {
  psql(
    "INSERT INTO runtimes (code, name, language, version, image, run_cmd, entry_file, template, description)" +
      " VALUES (:'v1', :'v2', 'shell', '1', :'v3', '[\"sh\", \"main.sh\"]', 'main.sh', '{\"main.sh\": \"echo hi\\n\"}', 'test runtime')" +
      ' ON CONFLICT (code) DO UPDATE SET image = EXCLUDED.image, enabled = true',
    code,
    name,
    image,
  );
}

describe('runtimes whose image is missing', () => {
  let browser;
  const missingCode = `b-missing-${process.pid}`;
  const liveCode = `b-live-${process.pid}`;

  before(async () => {
    browser = await launch();
    addRuntime(missingCode, `Missing image ${process.pid}`, MISSING);
    assert.equal(docker('tag', 'runit/shell:latest', LIVE).status, 0);
    addRuntime(liveCode, `Live image ${process.pid}`, LIVE);
  });

  after(async () => {
    await browser?.close();
    for (const image of [MISSING, LIVE]) docker('image', 'rm', '-f', image); // ours only
    psql("UPDATE runtimes SET enabled = false WHERE code IN (:'v1', :'v2')", missingCode, liveCode);
  });

  it('shows the runtime disabled in the New project picker, with the reason', async () => {
    const page = await newPage(browser);
    await signUp(page);
    // the server looks at the images every 5 s: open the dialog until it knows
    const dlg = page.getByRole('dialog', { name: 'New project' });
    const radio = dlg.locator(`input[name="np-runtime"][value="${missingCode}"]`);
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      await page.goto('/#/');
      await page.getByRole('button', { name: '+ New project' }).click();
      await radio.waitFor({ state: 'attached' });
      if (await radio.isDisabled()) break;
      assert.ok(Date.now() < deadline, 'the missing image was never shown unavailable');
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
    const card = dlg.locator('label.runtime-card', { has: page.locator(`input[value="${missingCode}"]`) });
    await card.locator('.runtime-why').waitFor();
    assert.match(await card.innerText(), /Unavailable: Not installed on this server yet: an admin must build or pull its image/);
    assert.equal(await dlg.locator('input[name="np-runtime"][value="python-3.11"]').isDisabled(), false);
    assert.equal(await dlg.locator('input[name="np-runtime"]:checked').count(), 1);
    assert.equal(await radio.isChecked(), false);
    // its description points at the reason, for screen readers
    assert.match(await radio.getAttribute('aria-describedby'), /-why$/);
    await screenshot(page, 'picker-image-missing');
    await page.context().close();
  });

  it('shows "image missing" to the admin live, and the admin builds it', async () => {
    const admin = await newPage(browser);
    await logIn(admin, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await admin.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    const card = admin.getByRole('region', { name: 'Runtime images' });
    await card.waitFor();
    await card.locator(`li[data-image="${MISSING}"]`, { hasText: 'image missing' }).waitFor();
    const row = card.locator(`li[data-image="${LIVE}"]`);
    await row.locator('.badge', { hasText: 'present' }).waitFor();

    // the image goes away while the page is open: the row says so by itself
    assert.equal(docker('image', 'rm', LIVE).status, 0);
    await row.locator('.badge', { hasText: 'image missing' }).waitFor();
    await screenshot(admin, 'admin-image-missing', { fullPage: true });

    await row.getByRole('button', { name: `Build ${LIVE}` }).click();
    await row.locator('.image-log', { hasText: 'building shell' }).waitFor();
    await row.locator('.image-result', { hasText: 'build done' }).waitFor({ timeout: 120000 });
    await row.locator('.badge', { hasText: 'present' }).waitFor();
    assert.equal(docker('image', 'inspect', LIVE).status, 0);
    await screenshot(admin, 'admin-image-built', { fullPage: true });
    await admin.context().close();
  });
});
