// browser.test.mjs - the IDE served by the run-it image, through the nginx
// example over TLS (tests/deploy/run starts both; RUNIT_URL is nginx's
// https address): the page loads the built IDE, a person signs up (the
// cookie is Secure and HttpOnly), creates a Python project and runs a
// hello world, whose output comes back over the websocket through nginx
// from a container that the containerised server started.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, signUp, createProject, setCode, waitConsole, waitStatus, screenshot, BASE, TIMEOUT } from '../browser/lib.mjs';

describe('the IDE from the container, through the TLS proxy', () => {
  let browser;
  let context;
  let page;
  const problems = [];

  before(async () => {
    browser = await launch();
    // the test's own self-signed certificate
    context = await browser.newContext({ baseURL: BASE, ignoreHTTPSErrors: true, viewport: { width: 1400, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
  });

  it('loads the built IDE (not a blank shell)', async () => {
    const res = await page.goto('/');
    assert.equal(res.status(), 200);
    const app = await page.request.get('/app.js');
    assert.equal(app.status(), 200);
    assert.match(app.headers()['content-type'], /javascript/);
    // esbuild's entry, which loads the pages' chunks
    assert.match(String(await app.body()), /chunks\//);
    // the app ran: its top bar (ui/fallback/index.html has none)
    await page.locator('#topbar').getByRole('link', { name: 'Sign up' }).waitFor();
  });

  it('signs up over HTTPS with a Secure, HttpOnly session cookie', async () => {
    await signUp(page);
    const cookies = await context.cookies();
    const c = cookies.find((x) => x.name === 'runit_session');
    assert.ok(c, `no session cookie: ${JSON.stringify(cookies)}`);
    assert.equal(c.secure, true);
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, 'Strict');
  });

  it('runs a Python hello world through the proxy and the container', async () => {
    await createProject(page, 'Deployed hello');
    await setCode(page, 'print("hello from the deployed image")\n');
    await page.getByRole('button', { name: /^Run/ }).first().click();
    await waitStatus(page, /Exited with code 0 in/);
    const text = await waitConsole(page, /hello from the deployed image/);
    assert.match(text, /hello from the deployed image/);
    await screenshot(page, 'deploy-ide');
    assert.deepEqual(problems, []);
  });
});
