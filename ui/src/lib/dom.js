// dom.js - a tiny element builder, dialogs, toasts and formatting helpers.

// h('button', {class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child...)
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected' || k === 'readOnly')
        el[k] = !!v;
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// ---- toasts (a polite live region) ----

export function toast(message, kind = 'info', ms = 5000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast toast-${kind}` }, message);
  box.appendChild(t);
  setTimeout(() => t.remove(), ms);
}

export function errorText(err) {
  if (!err) return 'Something went wrong';
  if (err.reason === 'FORBIDDEN') return err.message ? `Not allowed: ${err.message}` : 'Not allowed';
  if (err.reason === 'OFFLINE' || err.reason === 'DISCONNECTED') return 'Offline: the server cannot be reached right now';
  if (err.reason === 'RATE_LIMITED')
    return `Too many attempts; try again${err.data?.retry_after_s ? ` in ${err.data.retry_after_s} s` : ' later'}`;
  return err.message || String(err);
}

export function toastError(err, prefix) {
  toast(prefix ? `${prefix}: ${errorText(err)}` : errorText(err), 'error', 8000);
}

// ---- dialogs (native <dialog>: focus is trapped and restored) ----

// modal({title, body: Node|Node[], actions: [{label, value, kind, type}], onSubmit, wide})
// resolves with the value of the action pressed, or null on Escape/Cancel.
export function modal({ title, body, actions = [], onSubmit, wide = false, describedBy }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const form = h('form', { method: 'dialog', class: 'dialog-form' });
    const errorBox = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const buttons = actions.map((a) =>
      h(
        'button',
        {
          type: a.type || (a.value === null ? 'button' : 'submit'),
          class: `btn ${a.kind ? `btn-${a.kind}` : ''}`,
          value: a.value == null ? '' : String(a.value),
          dataset: { action: a.value == null ? '' : String(a.value) },
          onclick:
            a.value === null
              ? () => {
                  done(null);
                }
              : null,
        },
        a.label,
      ),
    );
    const dlg = h(
      'dialog',
      { class: `dialog ${wide ? 'dialog-wide' : ''}`, 'aria-labelledby': titleId, 'aria-describedby': describedBy },
      form,
    );
    form.append(h('h2', { id: titleId, class: 'dialog-title' }, title), h('div', { class: 'dialog-body' }, body), errorBox, h('div', { class: 'dialog-actions' }, buttons));
    let settled = false;
    const done = (v) => {
      if (settled) return;
      settled = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = e.submitter?.dataset.action ?? actions.find((a) => a.value != null)?.value ?? true;
      if (onSubmit) {
        errorBox.hidden = true;
        buttons.forEach((b) => (b.disabled = true));
        try {
          const r = await onSubmit(value, form);
          if (r === false) return;
        } catch (err) {
          errorBox.textContent = errorText(err);
          errorBox.hidden = false;
          return;
        } finally {
          buttons.forEach((b) => (b.disabled = false));
        }
      }
      done(value);
    });
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(null);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = dlg.querySelector('[autofocus]') || dlg.querySelector('input, textarea, select');
    if (first) first.focus();
  });
}

export async function confirmDialog({ title, message, confirm = 'OK', danger = false }) {
  const v = await modal({
    title,
    body: h('p', null, message),
    actions: [
      { label: 'Cancel', value: null },
      { label: confirm, value: 'ok', kind: danger ? 'danger' : 'primary' },
    ],
  });
  return v === 'ok';
}

// promptDialog: one text field; validate(value) returns an error text or null.
export async function promptDialog({ title, label, value = '', confirm = 'OK', validate, hint }) {
  const id = `in-${Math.random().toString(36).slice(2)}`;
  const input = h('input', { id, type: 'text', value, autofocus: true, autocomplete: 'off', spellcheck: 'false', required: true });
  let result = null;
  const v = await modal({
    title,
    body: [h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null],
    actions: [
      { label: 'Cancel', value: null },
      { label: confirm, value: 'ok', kind: 'primary' },
    ],
    onSubmit: () => {
      const why = validate ? validate(input.value) : null;
      if (why) throw new Error(why);
      result = input.value;
    },
  });
  return v === 'ok' ? result : null;
}

// ---- formatting ----

export function fmtSeconds(ms) {
  if (ms == null) return '';
  if (ms < 100) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 10) return `${(Math.round(s * 10) / 10).toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function toDate(t) {
  if (t == null) return null;
  if (typeof t === 'number') return new Date(t * 1000);
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function relTime(t) {
  const d = toDate(t);
  if (!d) return '';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.floor(s / 86400)} d ago`;
  return d.toLocaleDateString();
}

export function timeEl(t) {
  const d = toDate(t);
  if (!d) return h('span', null, '—');
  return h('time', { datetime: d.toISOString(), title: d.toLocaleString() }, relTime(t));
}

export function fmtBytes(n) {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

export const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
export const modKey = isMac ? '⌘' : 'Ctrl';

// Copy text; the async clipboard needs a secure context, else fall back.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'visually-hidden', readonly: true });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

// Strip ANSI escape sequences (for plain-text views of logs).
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
export function stripAnsi(s) {
  return s.replace(ANSI, '');
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}
