// theme.js - light or dark. The choice ("light", "dark" or "system", which
// follows prefers-color-scheme) is kept in localStorage for every visitor
// and, for a signed-in user, with the account (prefs/get, prefs/set), so
// that it follows them to other browsers. The resolved theme is put on
// <html data-theme>; app.css, the editor (CSS variables) and the console
// (onThemeChange) follow it.
const KEY = 'runit.theme';
const CHOICES = ['light', 'dark', 'system'];
const media = window.matchMedia('(prefers-color-scheme: dark)');
const listeners = new Set();

function stored() {
  try {
    const v = localStorage.getItem(KEY);
    return CHOICES.includes(v) ? v : 'system';
  } catch {
    return 'system';
  }
}

let choice = stored();

export function themeChoice() {
  return choice;
}

// 'light' or 'dark', as shown now.
export function currentTheme() {
  return choice === 'system' ? (media.matches ? 'dark' : 'light') : choice;
}

function apply() {
  const t = currentTheme();
  document.documentElement.dataset.theme = t;
  document.querySelector('meta[name="color-scheme"]')?.setAttribute('content', t);
  for (const fn of listeners) {
    try {
      fn(t);
    } catch (e) {
      console.error(e);
    }
  }
}

// fn('light' | 'dark') on every change; returns a function that unsubscribes.
export function onThemeChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// The choice of this browser (and, with rpc and a user, of the account).
export function setTheme(next, { rpc = null, save = true } = {}) {
  if (!CHOICES.includes(next)) return;
  choice = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    /* private mode: this page only */
  }
  apply();
  if (save && rpc) rpc.call('prefs/set', { prefs: { theme: next } }).catch(() => {});
}

// After sign-in: the account's choice wins over this browser's.
export async function loadAccountTheme(rpc) {
  try {
    const r = await rpc.call('prefs/get');
    if (r?.prefs?.theme && r.prefs.theme !== choice) setTheme(r.prefs.theme, { save: false });
  } catch {
    /* an older server, or offline: keep this browser's */
  }
}

export function initTheme() {
  media.addEventListener('change', () => {
    if (choice === 'system') apply();
  });
  // a tab in the background may have missed a change of the system's theme
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && choice === 'system' && document.documentElement.dataset.theme !== currentTheme()) apply();
  });
  // another tab changed it
  window.addEventListener('storage', (e) => {
    if (e.key === KEY) {
      choice = stored();
      apply();
    }
  });
  apply();
}
