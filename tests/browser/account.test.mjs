// account.test.mjs - account pages: two-factor set-up with a QR code and
// one-time recovery codes, the TOTP step at login, sessions, password change,
// log out; and a session that survives a reload (the HttpOnly cookie).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signUp, logIn, totp, PASSWORD } from './lib.mjs';

describe('accounts', () => {
  let browser;
  let page;
  let username;
  let secret;
  let recovery;

  before(async () => {
    browser = await launch();
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close();
  });

  it('signs up and stays signed in across a reload', async () => {
    username = await signUp(page);
    await page.reload();
    await page.getByRole('heading', { name: 'Your projects' }).waitFor();
    assert.match(await page.locator('.topbar').innerText(), new RegExp(username));
    // the cookie is HttpOnly: not readable by the page
    assert.equal(await page.evaluate(() => document.cookie.includes('runit_session')), false);
  });

  it('sets up two-factor authentication with a QR code and shows the recovery codes once', async () => {
    await page.goto('/#/account');
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    assert.match(await qr.getAttribute('src'), /^data:image\/gif;base64,/);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 50));
    secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    await page.getByLabel('Code shown by the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).locator('li');
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);
    recovery = (await codes.first().innerText()).trim();
    assert.match(await page.getByRole('alert').filter({ hasText: 'recovery codes' }).innerText(), /shown only this once/);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByRole('button', { name: 'Turn off two-factor' }).waitFor();
    assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).count(), 0);
  });

  it('asks for the second factor at login and accepts a recovery code', async () => {
    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await logIn(page, username);
    await page.getByLabel('One-time code').waitFor();
    await page.getByText('Use a recovery code instead').click();
    await page.getByLabel('Recovery code').fill(recovery);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Your projects' }).waitFor();
  });

  it('lists sessions and changes the password', async () => {
    await page.goto('/#/account');
    await page.getByRole('cell', { name: 'This browser', exact: true }).waitFor();
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(`${PASSWORD} 2`);
    await page.getByLabel('Repeat the new password').fill(`${PASSWORD} 2`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText(/Password changed/).waitFor();
    // still signed in here; the new password works at the next login
    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await logIn(page, username, `${PASSWORD} 2`);
    await page.getByLabel('One-time code').waitFor();
    // a code of the next 30-second step (the confirming code's step is used up)
    await page.getByLabel('One-time code').fill(totp(secret, Date.now() + 30000));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Your projects' }).waitFor();
    assert.deepEqual(page.problems, []);
  });
});
