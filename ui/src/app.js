// app.js - shared state of the page: the websocket, the signed-in user, the
// hash router, the top bar and the offline banner.
import { Rpc } from './lib/rpc.js';
import { h, replace, toast } from './lib/dom.js';
import { initTheme, setTheme, currentTheme, loadAccountTheme, onThemeChange } from './lib/theme.js';

const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;

export const app = {
  rpc: new Rpc(wsUrl),
  user: null,
  runtimes: null,
  routes: [],
  cleanup: null,
  currentPath: null,
};

export function isAdmin() {
  return app.user?.role === 'admin';
}

// ---- HTTP account endpoints (they set or clear the HttpOnly cookie) ----

export async function postAuth(path, body) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {}),
    });
  } catch {
    const e = new Error('the server cannot be reached right now');
    e.reason = 'OFFLINE';
    throw e;
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data?.error || {};
    const e = new Error(err.message || `HTTP ${res.status}`);
    e.reason = err.reason || 'ERROR';
    e.data = err;
    e.status = res.status;
    throw e;
  }
  return data;
}

// After the cookie changed: a new websocket signs in (or out) with it.
export async function resetSession() {
  const hello = await app.rpc.reconnect();
  app.user = hello?.user || null;
  if (app.user) await loadAccountTheme(app.rpc);
  renderTopbar();
  return app.user;
}

export async function logout() {
  try {
    await postAuth('/auth/logout', {});
  } catch (e) {
    toast(`Log out: ${e.message}`, 'error');
  }
  app.user = null;
  await resetSession();
  navigate('#/login');
  toast('You are logged out.');
}

export async function runtimes(force = false) {
  if (!app.runtimes || force) app.runtimes = await app.rpc.call('runtime/list');
  return app.runtimes;
}

// ---- router ----

// route('/p/:id', loader, {auth: true})
export function route(pattern, load, opts = {}) {
  const keys = [];
  const re = new RegExp(
    `^${pattern.replace(/\//g, '\\/').replace(/:(\w+)/g, (_, k) => {
      keys.push(k);
      return '([^/]+)';
    })}$`,
  );
  app.routes.push({ re, keys, load, auth: opts.auth !== false, title: opts.title });
}

export function navigate(hash, { replace: rep = false } = {}) {
  if (location.hash === hash) {
    render();
    return;
  }
  if (rep) history.replaceState(null, '', hash);
  else location.hash = hash;
  if (rep) render();
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(qs || '') };
}

let renderSeq = 0;

export async function render() {
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  const main = document.getElementById('main');
  await app.rpc.ready();
  if (seq !== renderSeq) return;
  let match = null;
  let params = {};
  for (const r of app.routes) {
    const m = path.match(r.re);
    if (m) {
      match = r;
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      break;
    }
  }
  if (app.cleanup) {
    try {
      app.cleanup();
    } catch (e) {
      console.error(e);
    }
    app.cleanup = null;
  }
  app.currentPath = path;
  if (!match) {
    replace(main, h('section', { class: 'page' }, h('h1', null, 'Not found'), h('p', null, 'There is no page here. ', h('a', { href: '#/' }, 'Go to your projects'))));
    document.title = 'Not found · run-it';
    renderTopbar();
    return;
  }
  if (match.auth && !app.user) {
    navigate(`#/login?next=${encodeURIComponent(`#${path}${query.toString() ? `?${query}` : ''}`)}`, { replace: true });
    return;
  }
  renderTopbar();
  document.title = `${match.title || 'run-it'} · run-it`;
  main.className = '';
  replace(main);
  try {
    const mod = await match.load();
    if (seq !== renderSeq) return;
    app.cleanup = mod.mount(main, { params, query }) || null;
  } catch (e) {
    console.error(e);
    replace(main, h('section', { class: 'page' }, h('h1', null, 'This page failed to load'), h('p', null, String(e.message || e))));
  }
}

// ---- top bar ----

export function renderTopbar() {
  const bar = document.getElementById('topbar');
  const path = app.currentPath || parseHash().path;
  const link = (href, text, active) =>
    h('a', { href, class: `nav-link${active ? ' active' : ''}`, 'aria-current': active ? 'page' : null }, text);
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Main' },
    app.user ? link('#/', 'Projects', path === '/' || path.startsWith('/p/')) : null,
    link('#/gallery', 'Gallery', path === '/gallery'),
    app.user && isAdmin() ? link('#/admin', 'Admin', path === '/admin') : null,
    app.user ? link('#/account', 'Account', path === '/account') : null,
    link('#/help', 'Help', path === '/help'),
  );
  const dark = currentTheme() === 'dark';
  const themeBtn = h(
    'button',
    { type: 'button', class: 'btn btn-small theme-toggle', 'aria-pressed': String(dark), title: dark ? 'Switch to the light theme' : 'Switch to the dark theme', onclick: () => setTheme(currentTheme() === 'dark' ? 'light' : 'dark', { rpc: app.user ? app.rpc : null }) },
    h('span', { 'aria-hidden': 'true' }, dark ? '☀' : '☾'),
    ' Dark mode',
  );
  const right = app.user
    ? h(
        'div',
        { class: 'topbar-user' },
        h('span', { class: 'user-name', title: `Signed in as ${app.user.username}` }, app.user.username, isAdmin() ? h('span', { class: 'badge badge-admin' }, 'admin') : null),
        themeBtn,
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => logout() }, 'Log out'),
      )
    : h('div', { class: 'topbar-user' }, themeBtn, link('#/login', 'Log in', path === '/login'), link('#/signup', 'Sign up', path === '/signup'));
  replace(bar, h('a', { href: '#/', class: 'brand', 'aria-label': 'run-it home' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '▶'), 'run-it'), nav, right);
}

// ---- offline banner ----

let bannerTick = null;

function renderBanner(state) {
  const el = document.getElementById('banner');
  clearInterval(bannerTick);
  bannerTick = null;
  document.body.classList.toggle('is-offline', state === 'offline' || state === 'closed');
  if (state === 'open' || state === 'idle' || (state === 'connecting' && !app.rpc.everOpened)) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  const retry = h('button', { type: 'button', class: 'btn btn-small', onclick: () => app.rpc.connectNow() }, 'Reconnect now');
  if (state === 'closed') {
    replace(el, h('strong', null, 'Disconnected. '), app.rpc.closeInfo?.message || '', ' ', retry);
    return;
  }
  if (state === 'connecting') {
    replace(el, h('strong', null, 'Offline. '), 'Reconnecting…');
    return;
  }
  const text = h('span');
  const tick = () => {
    const s = Math.max(0, Math.ceil((app.rpc.retryAt - Date.now()) / 1000));
    text.textContent = s > 0 ? `Reconnecting in ${s} s… ` : 'Reconnecting… ';
  };
  tick();
  bannerTick = setInterval(tick, 1000);
  replace(el, h('strong', null, 'Offline. '), 'The connection to the server was lost; your unsaved changes are kept in this page. ', text, retry);
}

// ---- start ----

export function start() {
  const rpc = app.rpc;
  // a handle for the browser console and the browser tests (nothing secret:
  // the page can do all of this anyway)
  window.runit = app;
  initTheme();
  onThemeChange(() => renderTopbar());
  rpc.onState(renderBanner);
  rpc.onOpen(({ hello }) => {
    const before = app.user;
    app.user = hello.user || null;
    if (app.user && app.user.id !== before?.id) loadAccountTheme(rpc);
    renderTopbar();
    if (before && !app.user) {
      toast('Your session has ended; please log in again.', 'error', 8000);
      render();
    }
  });
  rpc.on('session/ended', (p) => {
    const why = {
      logged_out: 'you logged out',
      revoked: 'the session was revoked',
      password_changed: 'the password was changed',
      expired: 'the session expired',
      account_disabled: 'the account was disabled',
      kicked_by_admin: 'an admin closed this session',
    }[p.reason] || p.reason;
    toast(`You were signed out: ${why}.`, 'error', 10000);
  });
  window.addEventListener('hashchange', () => render());
  rpc.connect();
  rpc.ready().then((hello) => {
    app.user = hello.user || null;
    if (hello.auth === 'invalid') toast('Your session has expired; please log in again.', 'error', 8000);
    render();
  });
}
