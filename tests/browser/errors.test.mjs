// errors.test.mjs - error monitoring end to end: an error thrown in a
// user's page (and a promise rejected with nobody to catch it) appears live
// on the admin dashboard's Errors tab, with its context, and arrives at a
// Sentry-compatible receiver (a node http server on loopback, this test's
// own) as a well-formed envelope. axe finds nothing serious on that tab.
// This file starts a second run-it server of its own (the same binary and
// database as tests/browser/run's) with RUNIT_SENTRY_DSN pointing at the
// receiver.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { launch, signUp, logIn, screenshot, ADMIN, ARTIFACTS, TIMEOUT } from './lib.mjs';

const axePath = path.join(process.env.RUNIT_UI_NODE_MODULES || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../ui/node_modules'), 'axe-core', 'axe.min.js');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function freePort() {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, ms = TIMEOUT) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// envelope: header line, item header line, event
function parseEnvelope(buf) {
  const text = buf.toString('utf8');
  const [head, item, ...rest] = text.split('\n');
  const header = JSON.parse(head);
  const itemHeader = JSON.parse(item);
  const payload = Buffer.from(rest.join('\n'), 'utf8');
  assert.equal(itemHeader.type, 'event');
  const event = JSON.parse(payload.subarray(0, itemHeader.length).toString('utf8'));
  return { header, itemHeader, event };
}

describe('error monitoring', () => {
  let browser;
  let server;
  let receiver;
  let base;
  let logPath;
  const got = []; // {url, headers, body}

  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        got.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"id":"x"}');
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runit-errors-'));
    logPath = path.join(ARTIFACTS, 'errors-server.log');
    const log = fs.openSync(logPath, 'w');
    // the environment of tests/browser/run, less what this server must not see
    const { RUNIT_ADMIN_USER: _u, RUNIT_ADMIN_PASSWORD: _p, ...env } = process.env;
    server = spawn(process.env.RUNIT_BIN, ['serve'], {
      env: {
        ...env,
        RUNIT_LISTEN: `127.0.0.1:${port}`,
        RUNIT_DATA_DIR: dir,
        RUNIT_UI_DIR: path.join(root, 'ui', 'dist'),
        RUNIT_INSTANCE: `browser-errors-${port}`,
        RUNIT_SENTRY_DSN: `http://browserkey7@127.0.0.1:${receiver.address().port}/7`,
        RUNIT_SIGNUP_ADDR_MAX: '1000000',
        RUNIT_LOGIN_ADDR_MAX: '1000000',
      },
      stdio: ['ignore', log, log],
    });
    await waitFor(async () => {
      if (server.exitCode != null) throw new Error(`the second server exited: ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
      try {
        return (await fetch(`${base}/healthz`)).status === 200;
      } catch {
        return false;
      }
    }, 'the second server to be healthy');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    if (server && server.exitCode == null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    receiver?.close();
    const text = logPath && fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '';
    assert.ok(!/ERROR: AddressSanitizer|runtime error:/.test(text), text.slice(-3000));
  });

  it('shows a page’s uncaught error on the admin panel, live, and sends it to Sentry', async () => {
    const marker = `m${Date.now().toString(36)}`;
    const admin = await (await browser.newContext({ viewport: { width: 1400, height: 900 }, baseURL: base, bypassCSP: true })).newPage();
    admin.setDefaultTimeout(TIMEOUT);
    await logIn(admin, ADMIN.username, ADMIN.password, '/#/login?next=%23%2Fadmin');
    await admin.getByRole('heading', { name: 'Admin dashboard' }).waitFor();
    await admin.getByText('Live: pushed by the server.').waitFor();
    await admin.getByRole('tab', { name: 'Errors' }).click();
    await admin.getByRole('heading', { name: 'Errors' }).waitFor();

    const user = await (await browser.newContext({ viewport: { width: 1200, height: 800 }, baseURL: base })).newPage();
    user.setDefaultTimeout(TIMEOUT);
    await signUp(user);
    // thrown outside any handler of the app: window's 'error' event
    await user.evaluate((m) => {
      setTimeout(() => {
        throw new TypeError(`errors-test ${m} cannot read x`);
      }, 0);
    }, marker);
    // and a promise rejected with nobody to catch it
    await user.evaluate((m) => {
      Promise.reject(new RangeError(`errors-test ${m} rejected`));
    }, marker);

    // live: the tab was open before the errors happened
    const row = admin.locator('#admin-errors tr', { hasText: `errors-test ${marker} cannot read x` });
    await row.waitFor();
    assert.match(await row.innerText(), /TypeError/);
    assert.match(await row.innerText(), /browser/);
    await admin.locator('#admin-errors tr', { hasText: `errors-test ${marker} rejected` }).waitFor();
    await row.getByText('Show').click();
    const ctx = await row.locator('pre').innerText();
    assert.match(ctx, /"route": "#\/"/);
    assert.match(ctx, /"kind": "error"/);
    assert.match(ctx, /"frames"/);
    assert.match(ctx, /HeadlessChrome|Chrome/);
    await screenshot(admin, 'admin-errors', { fullPage: true });

    // axe on the Errors tab, rows and an expanded context included
    await admin.addScriptTag({ path: axePath });
    const violations = await admin.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const res = await axe.run(document, { resultTypes: ['violations'] });
      return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], JSON.stringify(bad, null, 2));

    // Sentry: the same error as an envelope, from the server
    const env = await waitFor(() => got.map((g) => ({ ...g, ...parseEnvelope(g.body) })).find((g) => JSON.stringify(g.event).includes(`${marker} cannot read x`)), 'the envelope at the receiver');
    assert.equal(env.url, '/api/7/envelope/');
    assert.match(env.headers['x-sentry-auth'], /^Sentry sentry_version=7, sentry_key=browserkey7, sentry_client=run-it\//);
    assert.equal(env.headers['content-type'], 'application/x-sentry-envelope');
    assert.match(env.header.event_id, /^[0-9a-f]{32}$/);
    assert.equal(env.header.event_id, env.event.event_id);
    assert.equal(env.event.platform, 'javascript');
    assert.equal(env.event.level, 'error');
    assert.match(env.event.release, /^run-it@/);
    const exc = env.event.exception.values[0];
    assert.equal(exc.type, 'TypeError');
    assert.ok(exc.stacktrace.frames.length >= 1, JSON.stringify(exc));
    assert.equal(env.event.tags.route, '#/');
    assert.match(env.event.user.id, /^\d+$/);
  });
});
