// admin_errors.js - the dashboard's "Errors" tab: the recent errors of every
// server instance (admin/error/list, newest first, page by page), the
// browsers' uncaught errors and the servers' internal errors, each with
// when, where from, its message, how often, which instance, and its
// context (route, stack, method...) to expand. New errors and growing
// counts arrive live as admin/event topic "error" (admin.js passes them
// in). "Record a test error" makes the server record one (admin/error/test)
// to check the panel, and Sentry when the server has a DSN.
import { h, replace, toast, toastError, errorText } from '../lib/dom.js';

const PAGE = 50;

export function errorsPanel(rpc) {
  const body = h('tbody');
  const table = h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: 'table', id: 'admin-errors' }, h('caption', { class: 'visually-hidden' }, 'Recent errors, newest first'), h('thead', null, h('tr', null, ...['Last seen', 'Source', 'Message', 'Count', 'Instance', 'Context'].map((c) => h('th', { scope: 'col' }, c)))), body),
  );
  const empty = h('p', { class: 'empty' }, 'No errors recorded. Good.');
  const note = h('p', { class: 'hint', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true, onclick: () => load(true) }, 'Show older errors');
  const test = h('button', { type: 'button', class: 'btn btn-small', onclick: sendTest }, 'Record a test error');
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-errors' },
    h('div', { class: 'card-head' }, h('h2', { id: 'h-errors' }, 'Errors'), test),
    h('p', { class: 'hint' }, 'Uncaught errors of users’ browsers and internal errors of the servers. The same error again within a minute is counted, not listed again. Passwords, tokens and cookies are removed before anything is stored.'),
    note,
    table,
    empty,
    more,
  );
  let errors = []; // newest first
  let next = null;
  let loading = 0;

  function row(e) {
    const last = new Date(e.last_at || e.first_at || Date.now());
    const ctx = e.context && Object.keys(e.context).length ? JSON.stringify(e.context, null, 2) : '';
    return h(
      'tr',
      { 'data-event': e.event_id, 'data-source': e.source },
      h('td', null, h('time', { datetime: last.toISOString(), title: `first seen ${new Date(e.first_at).toLocaleString()}` }, last.toLocaleString())),
      h('td', null, h('span', { class: `badge ${e.source === 'browser' ? 'badge-warn' : 'badge-bad'}` }, e.source)),
      h('td', { class: 'error-message' }, e.type ? h('strong', null, `${e.type}: `) : null, e.message, e.user_id ? h('span', { class: 'hint' }, ` (user ${e.user_id})`) : null),
      h('td', { class: 'error-count' }, String(e.count)),
      h('td', null, e.instance),
      h('td', null, ctx ? h('details', null, h('summary', null, 'Show'), h('pre', { class: 'history-log error-context', tabindex: '0', 'aria-label': `Context of ${e.type || 'error'} ${e.message}`.slice(0, 120) }, ctx)) : '—'),
    );
  }

  function render() {
    replace(body, errors.map(row));
    empty.hidden = errors.length > 0;
    table.hidden = errors.length === 0;
    more.hidden = next == null;
  }

  async function load(older = false) {
    const my = ++loading;
    try {
      const r = await rpc.call('admin/error/list', older && next ? { before: next, limit: PAGE } : { limit: PAGE });
      if (my !== loading) return;
      errors = older ? errors.concat(r.errors.filter((e) => !errors.some((x) => x.event_id === e.event_id))) : r.errors;
      next = r.next ?? null;
      note.textContent = r.partial ? 'The database does not answer: these are this server’s own recent errors only.' : '';
      render();
    } catch (e) {
      note.textContent = `Errors unavailable: ${errorText(e)}`;
    }
  }

  async function sendTest() {
    try {
      await rpc.call('admin/error/test', { kind: 'log' });
      toast('A test error was recorded.');
    } catch (e) {
      toastError(e);
    }
  }

  return {
    section,
    load: () => load(false),
    onEvent(ev) {
      const d = ev.data || {};
      if (ev.topic !== 'error' || !d.event_id) return;
      const known = errors.find((x) => x.event_id === d.event_id);
      if (ev.kind === 'new' && !known) errors.unshift(d);
      else if (ev.kind === 'repeat' && known) Object.assign(known, { count: d.count, last_at: d.last_at });
      else return;
      render();
    },
  };
}
