// lib.mjs - helpers of the browser tests: a headless Chromium, pages that
// sign up or log in, the console's text, screenshots.
//
// Waits are generous: the tests share a busy 2-core machine with Docker,
// PostgreSQL and other suites. A test waits for what it expects to see (a
// locator, the console's text, a run's status), never for a fixed time.
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiModules = process.env.RUNIT_UI_NODE_MODULES || path.resolve(here, '../../ui/node_modules');
const require = createRequire(path.join(uiModules, '.keep'));
const { chromium } = require('playwright-core');

export const BASE = process.env.RUNIT_URL;
export const ADMIN = { username: process.env.RUNIT_ADMIN_USER, password: process.env.RUNIT_ADMIN_PASSWORD };
export const ARTIFACTS = process.env.RUNIT_ARTIFACTS || path.resolve(here, '../artifacts/browser');
export const PASSWORD = 'correct horse battery staple';
// how long to wait for the page to show something; a run (a container on a
// busy engine) gets RUN_TIMEOUT
export const TIMEOUT = 60000;
export const RUN_TIMEOUT = 120000;

if (!BASE) throw new Error('RUNIT_URL is not set: run the browser tests through tests/browser/run');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// One browser per test file. playwright starts Chromium with a fresh
// temporary profile (user-data dir) and removes it on close; each context
// is a separate incognito-like session.
export async function launch() {
  return chromium.launch({ executablePath: process.env.RUNIT_CHROMIUM || '/usr/bin/chromium', args: ARGS });
}

// A new page in its own context, with problems of the page collected.
// bypassCSP: for pages that axe is injected into (a test tool, not the page).
export async function newPage(browser, { width = 1400, height = 860, bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, baseURL: BASE, bypassCSP });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // network failures are expected where a test takes the page offline
    if (m.type() === 'error' && !/Content Security Policy|Failed to load resource|WebSocket connection to .* failed/.test(m.text())) page.problems.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(TIMEOUT);
  return page;
}

let seq = 0;
export function uniqueName(prefix = 'u') {
  seq += 1;
  return `${prefix}${Date.now().toString(36)}${seq}${Math.floor(Math.random() * 1e4)}`.slice(0, 32);
}

export async function signUp(page, username = uniqueName()) {
  await page.goto('/#/signup');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Your projects' }).waitFor();
  return username;
}

export async function logIn(page, username, password = PASSWORD, target = '/#/login') {
  await page.goto(target);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

export async function createProject(page, name, runtime = 'python-3.11') {
  await page.goto('/#/');
  await page.getByRole('button', { name: '+ New project' }).click();
  const dlg = page.getByRole('dialog', { name: 'New project' });
  await dlg.getByLabel('Name', { exact: true }).fill(name);
  await dlg.locator(`input[name="np-runtime"][value="${runtime}"]`).check();
  await dlg.getByRole('button', { name: 'Create project' }).click();
  await page.locator('.cm-content').waitFor();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  const id = Number(/#\/p\/(\d+)/.exec(page.url())[1]);
  return id;
}

// Replace the text of the open editor.
export async function setCode(page, code) {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Delete');
  // insertText keeps the text exact (typing would auto-indent and close brackets)
  await page.keyboard.insertText(code);
}

// The console's visible rows as text, one line per row (empty rows kept).
export function consoleText(page) {
  return page.locator('.console-host .xterm-rows').evaluate((rows) =>
    [...rows.children]
      .map((r) => r.textContent.replace(/\u00a0/g, ' ').trimEnd())
      .join('\n')
      .trimEnd(),
  );
}

export async function waitConsole(page, re, timeout = RUN_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = await consoleText(page);
    if (re.test(last)) return last;
    await page.waitForTimeout(150);
  }
  throw new Error(`console never matched ${re}; it shows:\n${last}`);
}

export async function waitStatus(page, re, timeout = RUN_TIMEOUT) {
  await page.locator('.run-status').filter({ hasText: re }).waitFor({ timeout });
  return page.locator('.run-status').innerText();
}

export async function screenshot(page, name, { fullPage = false } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

// RFC 6238 TOTP (SHA-1, 30 s, 6 digits) of a base32 secret.
export function totp(secretB32, t = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  const n = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1e6).padStart(6, '0');
}
