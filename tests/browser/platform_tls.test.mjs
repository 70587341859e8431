// platform_tls.test.mjs - the admin dashboard's platform form for an engine
// reached over TCP with TLS client certificates: the three PEM fields, the
// key write-only (the form and the table say only "key set: yes"), a key
// of another certificate refused with the server's TLS_INVALID message.
// The PEMs are the test engine's (scripts/lib/platforms.sh _tls_pki: made
// here if missing; no engine needs to run: the platform is saved disabled).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, newPage, logIn, uniqueName, screenshot, ADMIN } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKI = '/run/runit-tls/pki';

describe('the platform form with TLS client certificates', () => {
  let browser;
  let admin;
  const pem = {};

  before(async () => {
    execFileSync('bash', ['-c', `source ${root}/scripts/lib/platforms.sh && _tls_pki ${PKI}`]);
    for (const [k, f] of [['ca', 'ca.pem'], ['cert', 'client-cert.pem'], ['key', 'client-key.pem'], ['otherKey', 'server-key.pem']]) pem[k] = fs.readFileSync(path.join(PKI, f), 'utf8');
    browser = await launch();
    admin = await newPage(browser);
  });

  after(async () => {
    await browser?.close();
  });

  it('creates a tcp:// platform with its PEMs and never shows the key again', async () => {
    const name = uniqueName('tls');
    await logIn(admin, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await admin.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    await admin.getByRole('tab', { name: 'Platforms' }).click();
    await admin.getByRole('button', { name: '+ New platform' }).click();
    const dlg = admin.getByRole('dialog', { name: 'New platform' });
    await dlg.getByLabel('Name', { exact: true }).fill(name);
    await dlg.getByLabel('Endpoint').fill('tcp://127.0.0.1:23760');
    await dlg.getByLabel('Enabled').uncheck();
    await dlg.getByLabel('TLS CA certificate (PEM)').fill(pem.ca);
    await dlg.getByLabel('TLS client certificate (PEM)').fill(pem.cert);
    // a key of another certificate: the server's reason, the dialog stays
    await dlg.getByLabel('TLS client key (PEM)').fill(pem.otherKey);
    await dlg.getByRole('button', { name: 'Create' }).click();
    await dlg.getByText(/tls_key does not belong to tls_cert/).waitFor();
    await dlg.getByLabel('TLS client key (PEM)').fill(pem.key);
    await dlg.getByRole('button', { name: 'Create' }).click();
    await dlg.waitFor({ state: 'detached' });

    const row = admin.locator('#apanel-platforms tbody tr', { hasText: name });
    await row.waitFor();
    assert.match(await row.locator('.pf-tls').innerText(), /TLS client certificate · key set: yes/);

    await row.getByRole('button', { name: `Edit platform ${name}` }).click();
    const ed = admin.getByRole('dialog', { name: new RegExp(`Edit platform`) });
    await ed.waitFor();
    assert.equal(await ed.getByLabel('TLS client key (PEM)').inputValue(), '');
    await ed.getByText('Key set: yes').waitFor();
    assert.equal(await ed.getByLabel('TLS CA certificate (PEM)').inputValue(), pem.ca);
    // the key's own bytes (past the header every P-256 key shares) are nowhere in the page
    const secret = pem.key.split('\n').slice(1, -2).join('').slice(40, 80);
    assert.ok(secret.length >= 30);
    assert.ok(!(await admin.content()).includes(secret), 'the key is in the page');
    await screenshot(admin, 'platform-tls-edit');
    await ed.getByRole('button', { name: 'Cancel' }).click();
    await ed.waitFor({ state: 'detached' });

    await row.getByRole('button', { name: `Delete platform ${name}` }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual(admin.problems, []);
  });
});
