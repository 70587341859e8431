// admin.js - the admin dashboard at #/admin. The server checks the admin role
// on every admin/* call; a non-admin gets FORBIDDEN and this page shows
// "Not allowed" and nothing else.
//
// Live data: admin/subscribe (admin/event notifications) when the server has
// it; otherwise active runs are polled every 2 s. Metrics come from GET
// /metrics (Prometheus text), parsed here and drawn as small charts.
import { h, replace, toast, toastError, errorText, timeEl, fmtBytes, fmtSeconds, modal, confirmDialog, debounce } from '../lib/dom.js';
import { app } from '../app.js';
import { imagesCard } from './admin_images.js';
import { errorsPanel } from './admin_errors.js';

const POLL_MS = 2000;
const SLOW_POLL_MS = 10000;
const METRICS_MS = 2000;
const RUNS_FRESH_MS = 1000; // a run list younger than this is not read again when the overview shows

export function mount(root) {
  const rpc = app.rpc;
  let disposed = false;
  const timers = [];
  const offs = [];
  const userNames = new Map(); // id -> username
  let subscribed = false;

  replace(root, h('section', { class: 'page' }, h('h1', null, 'Admin'), h('p', { 'aria-busy': 'true' }, 'Checking access…')));

  // ------------------------------------------------------------ layout
  const sections = [
    { id: 'overview', label: 'Overview' },
    { id: 'users', label: 'Users' },
    { id: 'runtimes', label: 'Runtimes' },
    { id: 'platforms', label: 'Platforms' },
    { id: 'settings', label: 'Settings & FAQ' },
    { id: 'errors', label: 'Errors' },
  ];
  const tabs = h('div', { class: 'admin-tabs', role: 'tablist', 'aria-label': 'Admin sections' });
  const bodies = {};
  let current = null;

  function show(id, focus = false) {
    current = id;
    for (const s of sections) {
      const on = s.id === id;
      bodies[s.id].tab.setAttribute('aria-selected', String(on));
      bodies[s.id].tab.tabIndex = on ? 0 : -1;
      bodies[s.id].panel.hidden = !on;
    }
    if (focus) bodies[id].tab.focus();
    loaders[id]?.();
  }

  sections.forEach((s, i) => {
    const tab = h('button', { type: 'button', role: 'tab', id: `atab-${s.id}`, 'aria-controls': `apanel-${s.id}`, class: 'panel-tab', tabindex: '-1' }, s.label);
    const panel = h('div', { role: 'tabpanel', id: `apanel-${s.id}`, 'aria-labelledby': `atab-${s.id}`, class: 'admin-panel', hidden: true });
    tab.addEventListener('click', () => show(s.id));
    tab.addEventListener('keydown', (e) => {
      const n = sections.length;
      const j = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i + n - 1) % n : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
      if (j != null) {
        e.preventDefault();
        show(sections[j].id, true);
      }
    });
    tabs.appendChild(tab);
    bodies[s.id] = { tab, panel };
  });

  // ------------------------------------------------------- active runs
  const runsBody = h('tbody');
  const runsCount = h('span', { class: 'badge' }, '0');
  const liveMode = h('span', { class: 'hint' });
  const runsTable = h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'admin-runs' }, h('caption', { class: 'visually-hidden' }, 'Active runs'), h('thead', null, h('tr', null, ...['Run', 'User', 'Project', 'Runtime', 'State', 'Age', 'Output'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), runsBody));
  const runsEmpty = h('p', { class: 'empty' }, 'No runs are active.');

  function renderRuns(list) {
    runsCount.textContent = String(list.length);
    runsEmpty.hidden = list.length > 0;
    runsTable.hidden = list.length === 0;
    replace(
      runsBody,
      list
        .sort((a, b) => b.run - a.run)
        .map((r) => {
          const who = r.username || userNames.get(r.user) || `user ${r.user}`;
          return h(
            'tr',
            { dataset: { run: r.run } },
            h('td', null, `#${r.run}`),
            h('td', null, who),
            h('td', null, h('a', { href: `#/p/${r.project}` }, `#${r.project}`)),
            h('td', null, r.runtime),
            h('td', null, h('span', { class: `badge badge-state-${r.state}` }, r.state)),
            h('td', null, fmtSeconds(r.age_ms)),
            h('td', null, fmtBytes(r.output_bytes)),
            h(
              'td',
              null,
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-small btn-danger',
                  'aria-label': `Cancel run ${r.run} of ${who}`,
                  onclick: async () => {
                    if (!(await confirmDialog({ title: `Cancel run #${r.run}?`, message: `The run of ${who} is stopped at once; they see “Cancelled by an admin”.`, confirm: 'Cancel run', danger: true }))) return;
                    try {
                      await rpc.call('admin/run/cancel', { run: r.run });
                      toast(`Run #${r.run} cancelled.`);
                    } catch (e) {
                      toastError(e, 'Cancel');
                    }
                    loadRuns();
                  },
                },
                'Cancel',
              ),
            ),
          );
        }),
    );
  }

  let runsSeq = 0;
  let lastRunsLoad = 0;
  async function loadRuns() {
    const my = ++runsSeq;
    lastRunsLoad = Date.now();
    try {
      const r = await rpc.call('admin/run/list');
      if (my !== runsSeq || disposed) return;
      if (nameless(r.runs)) await loadUserNames();
      renderRuns(r.runs);
    } catch (e) {
      if (e.reason === 'FORBIDDEN') forbidden();
    }
  }
  const loadRunsSoon = debounce(loadRuns, 150);

  // runs whose starter's name is neither given nor known here
  const nameless = (runs) => runs.some((x) => !x.username && !userNames.has(x.user));
  async function loadUserNames() {
    try {
      let after = 0;
      for (let i = 0; i < 10; i++) {
        const r = await rpc.call('admin/user/list', { after, limit: 200 });
        for (const u of r.users) userNames.set(u.id, u.username);
        if (!r.next) break;
        after = r.next;
      }
    } catch {
      /* names stay ids */
    }
  }

  // ------------------------------------------------------------ events
  // admin/subscribe answers with a snapshot (runs, sessions, platforms) and
  // its event number; admin/event notifications follow with consecutive seq.
  // A hole in the numbers, or admin/resubscribe, means: subscribe again.
  const eventsList = h('ol', { class: 'event-list', 'aria-live': 'off' }, h('li', { class: 'empty event-empty' }, 'Waiting for the first event…'));
  let busSeq = null;
  let health = []; // platforms with health, from the snapshot and events

  function describeEvent(ev) {
    const d = ev.data || {};
    const who = (id) => userNames.get(id) || d.username || (id != null ? `user ${id}` : '');
    switch (`${ev.topic}/${ev.kind}`) {
      case 'run/queued':
      case 'run/started':
        return `run #${d.run} ${ev.kind} (${who(d.user)}, project #${d.project}, ${d.runtime})`;
      case 'run/ended':
        return `run #${d.run} ended: ${d.reason}${d.exit_code != null ? ` (exit code ${d.exit_code})` : ''}, ${who(d.user)}`;
      case 'session/opened':
        return `session ${d.session} opened from ${d.ip || '?'}`;
      case 'session/signed_in':
        return `session ${d.session} signed in as ${d.username || who(d.user)}`;
      case 'session/closed':
        return `session ${d.session} closed${d.user ? ` (${who(d.user)})` : ''}`;
      case 'image/missing':
        return `image ${d.image} is missing: its runtimes cannot run`;
      case 'image/present':
        return `image ${d.image} is present`;
      case 'image/started':
        return `image ${d.image}: ${d.op} started by ${who(d.by)}`;
      case 'image/done':
        return `image ${d.image}: ${d.op} ${d.ok ? 'done' : `failed: ${d.error}`}`;
      case 'error/new':
        return `${d.source} error: ${d.type ? `${d.type}: ` : ''}${d.message} (Errors tab)`;
      case 'platform/up':
      case 'platform/down':
        return `platform ${d.name || d.platform} is ${ev.kind}${d.error ? `: ${d.error}` : ''}`;
      default:
        return `${ev.topic} ${ev.kind}${d.actor ? ` by ${who(d.actor)}` : ''}${d.target ? ` on ${d.target}` : ''}`;
    }
  }

  function addEvent(ev) {
    if (ev.topic === 'image' && ev.kind === 'progress') return; // the images card shows these
    const at = ev.at ? new Date(ev.at) : new Date();
    const li = h('li', null, h('time', { datetime: at.toISOString() }, at.toLocaleTimeString()), ' ', h('span', { class: `badge badge-topic-${ev.topic}` }, ev.topic), ' ', describeEvent(ev));
    eventsList.querySelector('.event-empty')?.remove();
    eventsList.prepend(li);
    while (eventsList.children.length > 100) eventsList.lastChild.remove();
  }

  async function subscribe() {
    let snap;
    try {
      snap = await rpc.call('admin/subscribe', {});
    } catch (e) {
      if (e.reason === 'FORBIDDEN') forbidden();
      return false; // METHOD_NOT_FOUND: a server without the live view
    }
    if (disposed) return false;
    subscribed = true;
    busSeq = snap.seq ?? null;
    if (Array.isArray(snap.runs)) {
      if (nameless(snap.runs)) await loadUserNames();
      renderRuns(snap.runs);
      lastRunsLoad = Date.now();
    }
    if (Array.isArray(snap.sessions)) renderLiveSessions(snap.sessions);
    if (Array.isArray(snap.platforms)) {
      health = snap.platforms;
      renderHealth();
    }
    images.setSnapshot(snap.images);
    return true;
  }

  async function setupLive() {
    const ok = await subscribe();
    if (disposed) return;
    liveMode.textContent = ok ? 'Live: pushed by the server.' : 'Refreshed every 2 s.';
    eventsSection.hidden = !ok;
    healthSection.hidden = !ok;
  }

  offs.push(
    rpc.on('admin/event', (ev) => {
      if (!subscribed) return;
      if (busSeq != null && typeof ev.seq === 'number') {
        if (ev.seq <= busSeq) return; // already in the snapshot
        if (ev.seq > busSeq + 1) {
          busSeq = null;
          setupLive(); // events were missed: a fresh snapshot
          return;
        }
      }
      busSeq = ev.seq ?? busSeq;
      addEvent(ev);
      images.onEvent(ev);
      errorsTab.onEvent(ev);
      const t = `${ev.topic || ''}`;
      if (t === 'run') loadRunsSoon();
      if (t === 'session' || t === 'user') {
        loadSessionsSoon();
        if (current === 'users') loadUsersSoon();
      }
      if (t === 'platform') {
        const d = ev.data || {};
        const pf = health.find((x) => x.id === d.platform || x.name === d.name);
        if (pf && (ev.kind === 'up' || ev.kind === 'down')) {
          pf.health = ev.kind;
          renderHealth();
        }
      }
      if (t === 'config') {
        if (current === 'runtimes' && /^runtime/.test(ev.kind)) loaders.runtimes();
        if (current === 'platforms' && /^platform/.test(ev.kind)) loaders.platforms();
      }
    }),
    rpc.on('admin/resubscribe', () => {
      if (!disposed) setupLive();
    }),
    rpc.onOpen(({ reconnected }) => {
      if (reconnected && !disposed) {
        subscribed = false;
        busSeq = null;
        setupLive();
        loadRuns();
      }
    }),
  );

  // platform health (live view only)
  const healthList = h('ul', { class: 'health-list' });
  const images = imagesCard(rpc); // runtime images: "image missing", build, pull
  const healthSection = h('section', { class: 'card', 'aria-labelledby': 'h-health', hidden: true }, h('h2', { id: 'h-health' }, 'Platforms'), healthList);
  function renderHealth() {
    replace(
      healthList,
      health.map((pf) =>
        h(
          'li',
          null,
          h('span', { class: `dot dot-${pf.health === 'up' ? 'ok' : pf.health === 'down' ? 'error' : 'neutral'}`, 'aria-hidden': 'true' }),
          h('strong', null, pf.name),
          ` (${pf.kind}${pf.default ? ', default' : ''}${pf.enabled === false ? ', disabled' : ''}) — `,
          h('span', { class: pf.health === 'down' ? 'text-bad' : null }, pf.health || 'unknown'),
          pf.active_runs != null ? ` · ${pf.active_runs} active run${pf.active_runs === 1 ? '' : 's'}` : '',
        ),
      ),
    );
  }

  // ----------------------------------------------------------- metrics
  const metricCards = h('div', { class: 'metric-cards' });
  const chartRuns = h('canvas', { class: 'spark', width: 320, height: 60, role: 'img', 'aria-label': 'Active runs over the last minutes' });
  const chartWs = h('canvas', { class: 'spark', width: 320, height: 60, role: 'img', 'aria-label': 'Open websockets over the last minutes' });
  const metricsErr = h('div', { class: 'metrics-err', hidden: true });
  const endings = h('ul', { class: 'endings', 'aria-label': 'Runs finished, by reason' });
  const capRuns = h('figcaption', null, 'Active runs');
  const capWs = h('figcaption', null, 'Open websockets');
  const series = { runs: [], ws: [] };
  let prev = null;
  let metricsToken = sessionStorage.getItem('runit-metrics-token') || '';

  function parseMetrics(text) {
    const out = new Map();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      if (m[2]) for (const lm of m[2].slice(1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
      if (!out.has(m[1])) out.set(m[1], []);
      out.get(m[1]).push({ labels, value: Number(m[3]) });
    }
    return out;
  }

  const val = (mm, name) => (mm.get(name) || []).reduce((a, x) => a + x.value, 0);

  function spark(canvas, data, color) {
    const ctx = canvas.getContext('2d');
    const w = canvas.width;
    const hh = canvas.height;
    ctx.clearRect(0, 0, w, hh);
    ctx.strokeStyle = '#d5dbe1';
    ctx.beginPath();
    ctx.moveTo(0, hh - 0.5);
    ctx.lineTo(w, hh - 0.5);
    ctx.stroke();
    if (data.length < 2) return;
    const max = Math.max(1, ...data);
    const top = max * 1.25;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    data.forEach((v, i) => {
      const x = (i / (data.length - 1)) * (w - 2) + 1;
      const y = hh - 2 - (v / top) * (hh - 4);
      if (i) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
    });
    ctx.stroke();
  }

  function card(label, value, sub) {
    return h('div', { class: 'metric' }, h('span', { class: 'metric-label' }, label), h('span', { class: 'metric-value' }, value), sub ? h('span', { class: 'metric-sub' }, sub) : null);
  }

  async function loadMetrics() {
    if (disposed || current !== 'overview') return;
    let text;
    try {
      const res = await fetch('/metrics', { credentials: 'same-origin', cache: 'no-store', headers: metricsToken ? { Authorization: `Bearer ${metricsToken}` } : {} });
      if (res.status === 401) {
        askToken();
        return;
      }
      if (res.status === 403) throw new Error('the server does not serve /metrics to this address (RUNIT_METRICS_ALLOW)');
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (e) {
      metricsErr.hidden = false;
      replace(metricsErr, h('p', { class: 'form-error' }, `Metrics unavailable: ${e.message}`));
      return;
    }
    metricsErr.hidden = true;
    const mm = parseMetrics(text);
    const now = Date.now();
    const cur = {
      t: now,
      started: val(mm, 'runit_runs_started_total'),
      framesIn: val(mm, 'runit_ws_frames_in_total'),
      framesOut: val(mm, 'runit_ws_frames_out_total'),
      bytesOut: val(mm, 'runit_ws_bytes_out_total'),
      errors: val(mm, 'runit_rpc_errors_total'),
    };
    const dt = prev ? (now - prev.t) / 1000 : 0;
    const rate = (k) => (prev && dt > 0 ? Math.max(0, (cur[k] - prev[k]) / dt) : 0);
    const activeRuns = val(mm, 'runit_runs_active');
    const ws = val(mm, 'runit_websockets_open');
    series.runs.push(activeRuns);
    series.ws.push(ws);
    if (series.runs.length > 90) series.runs.shift();
    if (series.ws.length > 90) series.ws.shift();
    const byReason = new Map();
    for (const f of [...(mm.get('runit_runs_total') || []), ...(mm.get('runit_runs_finished_total') || [])]) {
      if (f.labels.reason) byReason.set(f.labels.reason, (byReason.get(f.labels.reason) || 0) + f.value);
    }
    const finished = [...byReason].map(([reason, value]) => ({ labels: { reason }, value }));
    const version = (mm.get('runit_build_info') || [])[0]?.labels.version;
    replace(
      metricCards,
      card('Open websockets', String(ws)),
      card('Active runs', String(activeRuns)),
      card('Runs started', String(cur.started), prev ? `${(rate('started') * 60).toFixed(1)}/min now` : ''),
      card('Frames in / out', `${rate('framesIn').toFixed(1)} / ${rate('framesOut').toFixed(1)}`, 'per second'),
      card('Bytes out', `${fmtBytes(Math.round(rate('bytesOut')))}/s`),
      card('Database', val(mm, 'runit_db_up') ? 'up' : 'DOWN', `${val(mm, 'runit_db_pool_in_use')}/${val(mm, 'runit_db_pool_size')} connections busy`),
      card('RPC errors', String(cur.errors)),
      version ? card('Server', version) : null,
    );
    replace(endings, finished.filter((f) => f.value > 0).map((f) => h('li', null, h('span', null, f.labels.reason), ' ', h('strong', null, String(f.value)))));
    if (!endings.childNodes.length) endings.appendChild(h('li', null, 'none yet'));
    spark(chartRuns, series.runs, '#17602f');
    spark(chartWs, series.ws, '#0550ae');
    capRuns.textContent = `Active runs: now ${activeRuns}, at most ${Math.max(...series.runs)} in the last ${Math.round((series.runs.length * METRICS_MS) / 1000)} s`;
    capWs.textContent = `Open websockets: now ${ws}, at most ${Math.max(...series.ws)}`;
    prev = cur;
  }

  function askToken() {
    metricsErr.hidden = false;
    const input = h('input', { id: 'metrics-token', type: 'password', autocomplete: 'off' });
    const form = h('form', { class: 'form-inline-wrap' }, h('div', { class: 'field' }, h('label', { for: 'metrics-token' }, 'Metrics token (RUNIT_METRICS_TOKEN)'), input), h('button', { type: 'submit', class: 'btn' }, 'Use token'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      metricsToken = input.value.trim();
      sessionStorage.setItem('runit-metrics-token', metricsToken);
      loadMetrics();
    });
    if (!metricsErr.querySelector('#metrics-token')) replace(metricsErr, h('p', null, '/metrics needs a token on this server.'), form);
  }

  // ---------------------------------------------------------- sessions
  // Live websocket sessions (admin/session/list, with Kick); on a server
  // without it, the users that have login sessions (admin/user/list).
  const sessionsBox = h('div', null, h('p', { class: 'empty' }, 'Loading…'));
  const sessionsHint = h('span', { class: 'hint' });
  let lastSessionsLoad = 0;
  let liveSessions = true;

  function renderLiveSessions(list) {
    lastSessionsLoad = Date.now();
    sessionsHint.textContent = subscribed ? 'Open websockets, live.' : 'Open websockets; refreshed every 10 s.';
    if (!list.length) {
      replace(sessionsBox, h('p', { class: 'empty' }, 'No sessions are open.'));
      return;
    }
    const rows = list
      .slice()
      .sort((a, b) => (a.age_ms ?? 0) - (b.age_ms ?? 0))
      .map((x) => {
        const who = x.username || (x.user ? userNames.get(x.user) || `user ${x.user}` : null);
        return h(
          'tr',
          null,
          h('td', null, String(x.session)),
          h('td', null, who || h('span', { class: 'hint' }, 'not signed in')),
          h('td', null, x.ip || '—'),
          h('td', null, fmtSeconds(x.age_ms)),
          h('td', null, fmtSeconds(x.idle_ms)),
          h('td', null, fmtBytes(x.queued_bytes ?? 0)),
          h(
            'td',
            null,
            x.session === Number(rpc.hello?.session)
              ? h('span', { class: 'hint' }, 'this page')
              : h('button', {
                  type: 'button',
                  class: 'btn btn-small btn-danger',
                  'aria-label': `Kick session ${x.session}${who ? ` of ${who}` : ''}`,
                  onclick: async () => {
                    if (!(await confirmDialog({ title: `Kick session ${x.session}?`, message: `The connection${who ? ` of ${who}` : ''} is closed and signed out.`, confirm: 'Kick', danger: true }))) return;
                    try {
                      await rpc.call('admin/session/kick', { session: x.session });
                      toast(`Session ${x.session} kicked.`);
                    } catch (e) {
                      toastError(e, 'Kick');
                    }
                    loadSessions();
                  },
                }, 'Kick'),
          ),
        );
      });
    replace(
      sessionsBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'admin-sessions' }, h('caption', { class: 'visually-hidden' }, 'Open sessions'), h('thead', null, h('tr', null, ...['Session', 'User', 'Address', 'Connected', 'Idle', 'Queued'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), h('tbody', null, rows))),
    );
  }

  async function loadSessions() {
    lastSessionsLoad = Date.now();
    if (liveSessions) {
      try {
        const r = await rpc.call('admin/session/list');
        if (!disposed) renderLiveSessions(r.sessions || []);
        return;
      } catch (e) {
        if (e.reason !== 'METHOD_NOT_FOUND') {
          replace(sessionsBox, h('p', { class: 'form-error' }, errorText(e)));
          return;
        }
        liveSessions = false;
      }
    }
    // older server: the users with live login sessions
    sessionsHint.textContent = 'Users with live login sessions; refreshed every 10 s.';
    const users = [];
    try {
      let after = 0;
      for (let i = 0; i < 10; i++) {
        const r = await rpc.call('admin/user/list', { after, limit: 200 });
        for (const u of r.users) {
          userNames.set(u.id, u.username);
          if (u.sessions > 0) users.push(u);
        }
        if (!r.next) break;
        after = r.next;
      }
    } catch (e) {
      replace(sessionsBox, h('p', { class: 'form-error' }, errorText(e)));
      return;
    }
    if (!users.length) {
      replace(sessionsBox, h('p', { class: 'empty' }, 'Nobody is signed in.'));
      return;
    }
    users.sort((a, b) => (b.last_login_at || 0) - (a.last_login_at || 0));
    replace(
      sessionsBox,
      h('ul', { class: 'session-users' }, users.map((u) => h('li', null, h('span', { class: 'avatar', 'aria-hidden': 'true' }, u.username[0].toUpperCase()), h('span', null, h('strong', null, u.username), u.role === 'admin' ? h('span', { class: 'badge badge-admin' }, 'admin') : null, h('span', { class: 'hint' }, ` ${u.sessions} session${u.sessions === 1 ? '' : 's'} · last login `, timeEl(u.last_login_at)))))),
    );
  }
  const loadSessionsSoon = debounce(loadSessions, 300);

  // ------------------------------------------------------------- users
  const userQ = h('input', { id: 'user-q', type: 'search', placeholder: 'Search user names', autocomplete: 'off' });
  const usersBody = h('tbody');
  const usersMore = h('button', { type: 'button', class: 'btn', hidden: true }, 'Next page');
  const usersPrev = h('button', { type: 'button', class: 'btn', hidden: true }, 'First page');
  let usersAfter = 0;
  let usersNext = null;

  async function loadUsers() {
    const params = { after: usersAfter, limit: 50 };
    if (userQ.value.trim()) params.query = userQ.value.trim();
    let r;
    try {
      r = await rpc.call('admin/user/list', params);
    } catch (e) {
      replace(usersBody, h('tr', null, h('td', { colspan: 8, class: 'form-error' }, errorText(e))));
      return;
    }
    usersNext = r.next;
    usersMore.hidden = !r.next;
    usersPrev.hidden = usersAfter === 0;
    for (const u of r.users) userNames.set(u.id, u.username);
    replace(usersBody, r.users.map(userRow));
  }
  const loadUsersSoon = debounce(loadUsers, 250);
  userQ.addEventListener('input', () => {
    usersAfter = 0;
    loadUsersSoon();
  });
  usersMore.addEventListener('click', () => {
    usersAfter = usersNext;
    loadUsers();
  });
  usersPrev.addEventListener('click', () => {
    usersAfter = 0;
    loadUsers();
  });

  function quotaInput(u, key, label) {
    return h('input', { type: 'number', min: 0, class: 'quota', id: `q-${key}-${u.id}`, value: u[key] ?? '', placeholder: 'default', 'aria-label': `${label} for ${u.username} (empty: the default)` });
  }

  function userRow(u) {
    const runs = quotaInput(u, 'max_active_runs', 'Active runs quota');
    const projects = quotaInput(u, 'max_projects', 'Projects quota');
    // the user's resource pool (sql/020_pool.sql): CPU in millicores, memory in MiB
    const poolCpu = quotaInput(u, 'pool_cpu_millis', 'CPU pool in millicores');
    const poolMem = h('input', { type: 'number', min: 0, class: 'quota', id: `q-pool_mem-${u.id}`, value: u.pool_mem_bytes == null ? '' : Math.round(u.pool_mem_bytes / 1048576), placeholder: 'default', 'aria-label': `Memory pool in MiB for ${u.username} (empty: the default)` });
    const poolUsed = `${u.pool_used_cpu_millis ?? 0} m, ${Math.round((u.pool_used_mem_bytes ?? 0) / 1048576)} MiB in use`;
    const act = async (method, params, done) => {
      try {
        await rpc.call(method, { id: u.id, ...params });
        toast(done);
        loadUsers();
      } catch (e) {
        toastError(e);
      }
    };
    const status = u.disabled ? h('span', { class: 'badge badge-bad' }, 'disabled') : u.locked_until ? h('span', { class: 'badge badge-warn' }, 'locked') : h('span', { class: 'badge badge-ok' }, 'active');
    return h(
      'tr',
      null,
      h('th', { scope: 'row' }, u.username, u.role === 'admin' ? h('span', { class: 'badge badge-admin' }, 'admin') : null),
      h('td', null, status),
      h('td', null, u.totp_enabled ? '2FA on' : '—'),
      h('td', null, String(u.sessions ?? 0)),
      h('td', null, timeEl(u.last_login_at)),
      h('td', { class: 'quota-cell' }, runs, projects, h('button', {
        type: 'button',
        class: 'btn btn-small',
        'aria-label': `Save quotas of ${u.username}`,
        onclick: () => {
          const q = (inp) => (inp.value === '' ? 'default' : Number(inp.value));
          const mib = (inp) => (inp.value === '' ? 'default' : Number(inp.value) * 1048576);
          act('admin/user/set_quota', { max_active_runs: q(runs), max_projects: q(projects), pool_cpu_millis: q(poolCpu), pool_mem_bytes: mib(poolMem) }, `Quotas of ${u.username} saved.`);
        },
      }, 'Save')),
      h('td', { class: 'quota-cell' }, poolCpu, poolMem, h('span', { class: 'hint' }, poolUsed)),
      h(
        'td',
        { class: 'row-actions' },
        u.disabled
          ? h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Enable ${u.username}`, onclick: () => act('admin/user/enable', {}, `${u.username} enabled.`) }, 'Enable')
          : h('button', {
              type: 'button',
              class: 'btn btn-small btn-danger',
              'aria-label': `Disable ${u.username}`,
              disabled: u.id === app.user.id,
              onclick: async () => {
                if (await confirmDialog({ title: `Disable ${u.username}?`, message: 'They are signed out everywhere and cannot log in until enabled again.', confirm: 'Disable', danger: true })) act('admin/user/disable', {}, `${u.username} disabled.`);
              },
            }, 'Disable'),
        u.totp_enabled
          ? h('button', {
              type: 'button',
              class: 'btn btn-small',
              'aria-label': `Reset 2FA of ${u.username}`,
              onclick: async () => {
                if (await confirmDialog({ title: `Reset 2FA of ${u.username}?`, message: 'Their authenticator and recovery codes stop working; they can log in with the password alone and set 2FA up again.', confirm: 'Reset 2FA', danger: true })) act('admin/user/reset_totp', {}, `2FA of ${u.username} reset.`);
              },
            }, 'Reset 2FA')
          : null,
      ),
    );
  }

  bodies.users.panel.append(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'h-users' },
      h('h2', { id: 'h-users' }, 'Users'),
      h('div', { class: 'field' }, h('label', { for: 'user-q' }, 'Search'), userQ),
      h('div', { class: 'table-wrap' }, h('table', { class: 'table' }, h('caption', { class: 'visually-hidden' }, 'Users'), h('thead', null, h('tr', null, ...['User', 'Status', '2FA', 'Sessions', 'Last login', 'Quotas: active runs, projects', 'Pool: CPU (millicores), memory (MiB)'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), usersBody)),
      h('div', { class: 'row' }, usersPrev, usersMore),
      h('p', { class: 'hint' }, 'Sessions counts each user’s live login sessions; the Overview shows the open websockets live.'),
    ),
  );

  // ---------------------------------------------------------- runtimes
  const RT_FIELDS = [
    ['code', 'Code', 'text', 'e.g. python-3.11; lower case, digits, “.”, “_”, “-”'],
    ['name', 'Name', 'text'],
    ['language', 'Language', 'text', 'Used to pick the editor’s highlighting and the gallery filter'],
    ['version', 'Version', 'text'],
    ['os', 'OS', 'text'],
    ['arch', 'Architecture', 'text'],
    ['image', 'Image', 'text', 'A Docker image reference, e.g. runit/python:latest'],
    ['run_cmd', 'Run command', 'json', 'JSON array of arguments, e.g. ["python3", "-u", "main.py"]'],
    ['build_cmd', 'Build command', 'json', 'JSON array, or empty for none'],
    ['entry_file', 'Entry file', 'text'],
    ['template', 'Template files', 'json', 'JSON object {path: content} for new projects'],
    ['description', 'Description', 'textarea'],
    ['faq', 'FAQ', 'json', 'JSON array of {"question": …, "answer": …}'],
    ['wall_ms', 'Time limit (ms)', 'int', 'For the program, from the end of the build; empty: the global default'],
    ['build_wall_ms', 'Build time limit (ms)', 'int', 'For the build command alone; empty: 60000'],
    ['cache_bytes', 'Cache volume cap (bytes)', 'int', "The project's /cache volume is emptied past this; 0: no cache volume; empty: 268435456"],
    ['memory_bytes', 'Memory (bytes)', 'int', 'Empty: the global default'],
    ['nano_cpus', 'CPU (nano CPUs)', 'int', '1000000000 = one CPU; empty: the default'],
    ['pids', 'Processes', 'int', 'Empty: the global default'],
    ['output_bytes', 'Output limit (bytes)', 'int', 'Empty: the global default'],
    ['disk_bytes', 'Disk (bytes)', 'int', 'Each of /workspace and /tmp, in RAM; empty: the default'],
    ['disk_inodes', 'Files', 'int', 'Files and folders in each of /workspace and /tmp; empty: the default'],
    ['network_allowed', 'Network allowed', 'bool'],
    ['enabled', 'Enabled', 'bool'],
  ];
  const PF_FIELDS = [
    ['name', 'Name', 'text'],
    ['code', 'Code', 'text', 'e.g. local-swarm; lower case, digits, “.”, “_”, “-”; empty: the name in lower case'],
    ['kind', 'Kind', 'select', 'docker, podman, swarm or kubernetes', ['docker', 'podman', 'swarm', 'kubernetes']],
    ['endpoint', 'Endpoint', 'text', 'unix:///var/run/docker.sock, tcp://host:port or https://host'],
    ['description', 'Description', 'textarea'],
    ['options', 'Options', 'json', 'JSON object, e.g. {"oci_runtime": "runsc"}'],
    ['enabled', 'Enabled', 'bool'],
    ['is_default', 'Default platform', 'bool'],
    ['max_containers', 'Capacity (runs at once)', 'int', 'Active runs at most on this engine; empty: no limit'],
    // a tcp:// engine: TLS client certificates (README "A remote engine over TLS")
    ['tls_ca', 'TLS CA certificate (PEM)', 'pem', 'tcp:// engines: the CA that signed the engine’s certificate (its --tlscacert side), the only CA trusted'],
    ['tls_cert', 'TLS client certificate (PEM)', 'pem', 'tcp:// engines: the certificate run-it presents; the engine’s --tlscacert must have signed it'],
    ['tls_key', 'TLS client key (PEM)', 'secret', 'Unencrypted; stored sealed and never shown again. To change the certificates give all three.'],
  ];
  const TLS_KEYS = ['tls_ca', 'tls_cert', 'tls_key'];

  function fieldInput(prefix, [key, label, type, hint, choices], value) {
    const id = `${prefix}-${key}`;
    const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
    const described = hint ? `${id}-hint` : null;
    let input;
    if (type === 'bool') {
      input = h('input', { id, type: 'checkbox', checked: !!value });
      return h('div', { class: 'field field-check' }, input, h('label', { for: id }, label), hintEl);
    }
    if (type === 'secret') {
      // write-only: the server answers only whether it is set (tls_key_set)
      input = h('textarea', { id, rows: 3, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': described, class: 'mono', placeholder: value ? 'set: leave empty to keep it' : '' });
      const state = h('p', { class: 'hint', id: `${id}-set` }, `Key set: ${value ? 'yes' : 'no'}`);
      return h('div', { class: 'field' }, h('label', { for: id }, label), input, state, hintEl);
    }
    if (type === 'select') input = h('select', { id, 'aria-describedby': described }, choices.map((c) => h('option', { value: c, selected: c === value }, c)));
    else if (type === 'json' || type === 'textarea' || type === 'pem') input = h('textarea', { id, rows: type === 'textarea' ? 3 : 4, spellcheck: 'false', 'aria-describedby': described, class: type === 'textarea' ? null : 'mono' });
    else input = h('input', { id, type: type === 'int' ? 'number' : 'text', 'aria-describedby': described, spellcheck: 'false', autocomplete: 'off' });
    if (type === 'json') input.value = value == null ? '' : JSON.stringify(value, null, 2);
    else if (type !== 'select') input.value = value == null ? '' : String(value);
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl);
  }

  function readFields(form, prefix, fields, original) {
    const out = {};
    for (const [key, label, type] of fields) {
      const el = form.querySelector(`#${prefix}-${key}`);
      let v;
      if (type === 'bool') v = el.checked;
      else if (type === 'int') v = el.value.trim() === '' ? null : Number(el.value);
      else if (type === 'json') {
        const t = el.value.trim();
        if (!t) v = null;
        else {
          try {
            v = JSON.parse(t);
          } catch (e) {
            throw new Error(`${label}: not valid JSON (${e.message})`);
          }
        }
      } else if (type === 'pem') v = el.value.trim() === '' ? null : el.value;
      else if (type === 'secret') {
        if (el.value.trim() === '') continue; // kept as it is
        v = el.value;
      } else v = el.value;
      if (original) {
        if (JSON.stringify(v) === JSON.stringify(original[key] ?? (type === 'bool' ? false : null))) continue;
      } else if (v === null || v === '') continue;
      out[key] = v;
    }
    // the TLS PEMs go together: a change to one sends the others as shown
    if (fields.some((f) => f[0] === 'tls_key') && TLS_KEYS.some((k) => k in out)) {
      for (const k of TLS_KEYS) {
        if (k in out) continue;
        const t = form.querySelector(`#${prefix}-${k}`).value;
        if (t.trim() !== '') out[k] = t;
      }
    }
    return out;
  }

  async function editRow({ kind, fields, row, create, update }) {
    const prefix = `ed-${kind}`;
    await modal({
      title: row ? `Edit ${kind} ${row.code || row.name}` : `New ${kind}`,
      wide: true,
      body: h('div', { class: 'grid-fields' }, fields.map((f) => fieldInput(prefix, f, row ? (f[2] === 'secret' ? row[`${f[0]}_set`] : row[f[0]]) : f[2] === 'bool' && f[0] === 'enabled' ? true : f[0] === 'kind' ? 'docker' : null))),
      actions: [
        { label: 'Cancel', value: null },
        { label: row ? 'Save' : 'Create', value: 'save', kind: 'primary' },
      ],
      onSubmit: async (_, form) => {
        const patch = readFields(form, prefix, fields, row);
        if (row && !Object.keys(patch).length) return;
        if (row) await update(patch);
        else await create(patch);
      },
    });
  }

  const rtBody = h('div');
  async function loadRuntimes() {
    let r;
    try {
      r = await rpc.call('admin/runtime/list');
    } catch (e) {
      replace(rtBody, h('p', { class: 'form-error' }, errorText(e)));
      return;
    }
    replace(
      rtBody,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table' },
          h('caption', { class: 'visually-hidden' }, 'Runtimes'),
          h('thead', null, h('tr', null, ...['Code', 'Name', 'Version', 'OS / arch', 'Image', 'Projects', 'Enabled'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          h(
            'tbody',
            null,
            r.runtimes.map((rt) => {
              const sw = h('input', { type: 'checkbox', role: 'switch', checked: rt.enabled, 'aria-label': `${rt.code} enabled` });
              sw.addEventListener('change', async () => {
                try {
                  await rpc.call('admin/runtime/update', { id: rt.id, enabled: sw.checked });
                  toast(`${rt.code} ${sw.checked ? 'enabled' : 'disabled'}.`);
                  app.runtimes = null;
                } catch (e) {
                  sw.checked = !sw.checked;
                  toastError(e);
                }
              });
              return h(
                'tr',
                null,
                h('th', { scope: 'row' }, h('code', null, rt.code)),
                h('td', null, rt.name),
                h('td', null, rt.version),
                h('td', null, `${rt.os} / ${rt.arch}`),
                h('td', null, h('code', null, rt.image)),
                h('td', null, String(rt.projects ?? 0)),
                h('td', null, sw),
                h(
                  'td',
                  { class: 'row-actions' },
                  h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit ${rt.code}`, onclick: async () => { await editRow({ kind: 'runtime', fields: RT_FIELDS, row: rt, update: (p) => rpc.call('admin/runtime/update', { id: rt.id, ...p }) }); app.runtimes = null; loadRuntimes(); } }, 'Edit'),
                  h('button', {
                    type: 'button',
                    class: 'btn btn-small btn-danger',
                    'aria-label': `Delete ${rt.code}`,
                    onclick: async () => {
                      if (!(await confirmDialog({ title: `Delete runtime ${rt.code}?`, message: rt.projects ? `${rt.projects} project(s) use it: the server will refuse; disable it instead.` : 'No project uses it.', confirm: 'Delete', danger: true }))) return;
                      try {
                        await rpc.call('admin/runtime/delete', { id: rt.id });
                        toast(`${rt.code} deleted.`);
                        app.runtimes = null;
                      } catch (e) {
                        toastError(e);
                      }
                      loadRuntimes();
                    },
                  }, 'Delete'),
                ),
              );
            }),
          ),
        ),
      ),
    );
  }

  bodies.runtimes.panel.append(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'h-rt' },
      h('div', { class: 'card-head' }, h('h2', { id: 'h-rt' }, 'Runtimes'), h('button', { type: 'button', class: 'btn btn-primary', onclick: async () => { await editRow({ kind: 'runtime', fields: RT_FIELDS, row: null, create: (p) => rpc.call('admin/runtime/create', p) }); app.runtimes = null; loadRuntimes(); } }, '+ New runtime')),
      h('p', { class: 'hint' }, 'Changes apply to the next run; a disabled runtime refuses new runs while its projects stay readable.'),
      rtBody,
    ),
  );

  // --------------------------------------------------------- platforms
  const pfBody = h('div');
  // What the engine says it is (the health round reads /version and /info).
  function engineText(pf) {
    if (!pf.engine_version) return 'not read yet';
    const i = pf.engine_info || {};
    const more = [i.operating_system, i.ncpu ? `${i.ncpu} CPU` : '', i.mem_total ? `${Math.round(i.mem_total / 2 ** 30)} GiB` : '', i.swarm && i.swarm !== 'inactive' ? `swarm ${i.swarm}, ${i.swarm_nodes} node(s)` : ''].filter(Boolean).join(' · ');
    return [`${pf.engine_os}/${pf.engine_arch} ${pf.engine_version}`, more ? h('p', { class: 'hint' }, more) : null];
  }
  async function loadPlatforms() {
    let r;
    try {
      r = await rpc.call('admin/platform/list');
    } catch (e) {
      replace(pfBody, h('p', { class: 'form-error' }, errorText(e)));
      return;
    }
    replace(
      pfBody,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table' },
          h('caption', { class: r.queued ? null : 'visually-hidden' }, r.queued ? `Platforms (${r.queued} run${r.queued === 1 ? '' : 's'} waiting for room)` : 'Platforms'),
          h('thead', null, h('tr', null, ...['Name', 'Code', 'Kind', 'Endpoint', 'Engine', 'Runs / capacity', 'Options', 'Enabled', 'Default'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          h(
            'tbody',
            null,
            r.platforms.map((pf) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, pf.name, pf.description ? h('p', { class: 'hint' }, pf.description) : null),
                h('td', null, h('code', null, pf.code || '')),
                h('td', null, pf.kind),
                h('td', null, h('code', null, pf.endpoint), pf.tls_ca ? h('p', { class: 'hint pf-tls' }, `TLS client certificate · key set: ${pf.tls_key_set ? 'yes' : 'no'}`) : null),
                h('td', { class: 'pf-engine' }, engineText(pf)),
                h('td', { class: 'pf-load' }, `${pf.active_runs ?? 0} / ${pf.max_containers ?? '∞'}`, pf.up === false ? h('p', { class: 'hint pf-down' }, pf.health_error ? `down: ${pf.health_error}` : 'down') : null),
                h('td', null, h('code', null, JSON.stringify(pf.options || {}))),
                h('td', null, pf.enabled ? 'yes' : 'no'),
                h('td', null, pf.is_default ? h('span', { class: 'badge badge-ok' }, 'default') : ''),
                h(
                  'td',
                  { class: 'row-actions' },
                  h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit platform ${pf.name}`, onclick: async () => { await editRow({ kind: 'platform', fields: PF_FIELDS, row: pf, update: (p) => rpc.call('admin/platform/update', { id: pf.id, ...p }) }); loadPlatforms(); } }, 'Edit'),
                  pf.is_default
                    ? null
                    : h('button', {
                        type: 'button',
                        class: 'btn btn-small btn-danger',
                        'aria-label': `Delete platform ${pf.name}`,
                        onclick: async () => {
                          if (!(await confirmDialog({ title: `Delete platform ${pf.name}?`, message: 'Runs can no longer use it.', confirm: 'Delete', danger: true }))) return;
                          try {
                            await rpc.call('admin/platform/delete', { id: pf.id });
                            toast(`${pf.name} deleted.`);
                          } catch (e) {
                            toastError(e);
                          }
                          loadPlatforms();
                        },
                      }, 'Delete'),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
  bodies.platforms.panel.append(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'h-pf' },
      h('div', { class: 'card-head' }, h('h2', { id: 'h-pf' }, 'Container platforms'), h('button', { type: 'button', class: 'btn btn-primary', onclick: async () => { await editRow({ kind: 'platform', fields: PF_FIELDS, row: null, create: (p) => rpc.call('admin/platform/create', p) }); loadPlatforms(); } }, '+ New platform')),
      pfBody,
    ),
  );

  // ---------------------------------------------------- settings & FAQ
  const setBody = h('div');
  const faqBody = h('div');
  const SETTING_HELP = {
    max_file_bytes: 'Largest file, in bytes',
    max_files_per_project: 'Files per project',
    max_project_bytes: 'Total size of a project, in bytes',
    max_projects_per_user: 'Projects per user (default quota)',
    max_active_runs_per_user: 'Active runs per user (default quota)',
    run_history_per_project: 'Runs kept in each project’s history',
    default_wall_ms: 'Default time limit of a run, ms',
    default_memory_bytes: 'Default memory of a run, bytes',
    default_nano_cpus: 'Default CPU of a run (1000000000 = one CPU)',
    default_pids: 'Default process limit',
    default_output_bytes: 'Default output limit, bytes',
    default_disk_bytes: 'Default size of each of /workspace and /tmp (RAM, counts against memory), bytes',
    default_disk_inodes: 'Default files and folders in each of /workspace and /tmp',
    session_max_age_s: 'Longest login session, s',
    session_idle_s: 'Login sessions end after this long idle, s',
    signup_enabled: 'Anyone may sign up',
    pool_cpu_millis_user: 'CPU pool of each user, millicores (0: unlimited)',
    pool_mem_bytes_user: 'Memory pool of each user, bytes (0: unlimited)',
    pool_cpu_millis_admin: 'CPU pool of each admin, millicores (0: unlimited)',
    pool_mem_bytes_admin: 'Memory pool of each admin, bytes (0: unlimited)',
    pool_full: 'A run that does not fit its user’s pool: refuse or wait',
  };

  async function loadSettings() {
    let r;
    try {
      r = await rpc.call('admin/settings/get');
    } catch (e) {
      replace(setBody, h('p', { class: 'form-error' }, errorText(e)));
      return;
    }
    const st = r.settings || {};
    const keys = Object.keys(st).filter((k) => k !== 'global_faq').sort();
    const inputs = {};
    const rows = keys.map((k) => {
      const v = st[k];
      const id = `set-${k}`;
      const input = typeof v === 'boolean' ? h('input', { id, type: 'checkbox', checked: v }) : h('input', { id, type: typeof v === 'number' ? 'number' : 'text', value: typeof v === 'string' ? v : JSON.stringify(v), spellcheck: 'false' });
      inputs[k] = input;
      return h('div', { class: typeof v === 'boolean' ? 'field field-check' : 'field' }, typeof v === 'boolean' ? [input, h('label', { for: id }, SETTING_HELP[k] || k)] : [h('label', { for: id }, SETTING_HELP[k] || k, ' ', h('code', { class: 'hint' }, k)), input]);
    });
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'form' }, h('div', { class: 'grid-fields' }, rows), err, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save settings'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      const changes = {};
      for (const k of keys) {
        const el = inputs[k];
        let v;
        if (el.type === 'checkbox') v = el.checked;
        else if (el.type === 'number') v = Number(el.value);
        else {
          try {
            v = JSON.parse(el.value);
          } catch {
            v = el.value;
          }
        }
        if (JSON.stringify(v) !== JSON.stringify(st[k])) changes[k] = v;
      }
      if (!Object.keys(changes).length) {
        toast('No changes.');
        return;
      }
      try {
        await rpc.call('admin/settings/set', changes);
        toast('Settings saved; they apply now.');
        loadSettings();
      } catch (x) {
        err.textContent = errorText(x);
        err.hidden = false;
      }
    });
    replace(setBody, form);
    renderFaq(Array.isArray(st.global_faq) ? st.global_faq : []);
  }

  function renderFaq(faq) {
    const list = h('ol', { class: 'faq-editor' });
    let n = 0;
    const item = (q = '', a = '') => {
      const i = ++n;
      const li = h(
        'li',
        { class: 'faq-edit-item' },
        h('div', { class: 'field' }, h('label', { for: `fq-${i}` }, 'Question'), h('input', { id: `fq-${i}`, class: 'faq-q', type: 'text', value: q })),
        h('div', { class: 'field' }, h('label', { for: `fa-${i}` }, 'Answer'), h('textarea', { id: `fa-${i}`, class: 'faq-a', rows: 3 })),
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Move question ${i} up`, onclick: () => li.previousElementSibling && list.insertBefore(li, li.previousElementSibling) }, '↑ Up'), h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Remove question ${i}`, onclick: () => li.remove() }, 'Remove')),
      );
      li.querySelector('.faq-a').value = a;
      return li;
    };
    faq.forEach((f) => list.appendChild(item(f.question, f.answer)));
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    replace(
      faqBody,
      h('p', { class: 'hint' }, 'Shown to everyone in each project’s FAQ panel, after the runtime’s own questions (edit those with the runtime).'),
      list,
      err,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'btn', onclick: () => { const li = item(); list.appendChild(li); li.querySelector('input').focus(); } }, '+ Add question'),
        h('button', {
          type: 'button',
          class: 'btn btn-primary',
          onclick: async () => {
            err.hidden = true;
            const out = [...list.querySelectorAll('li')].map((li) => ({ question: li.querySelector('.faq-q').value.trim(), answer: li.querySelector('.faq-a').value.trim() })).filter((x) => x.question || x.answer);
            if (out.some((x) => !x.question || !x.answer)) {
              err.textContent = 'Each entry needs a question and an answer.';
              err.hidden = false;
              return;
            }
            try {
              await rpc.call('admin/faq/set', { faq: out });
              toast('FAQ saved.');
            } catch (e) {
              err.textContent = errorText(e);
              err.hidden = false;
            }
          },
        }, 'Save FAQ'),
      ),
    );
  }

  bodies.settings.panel.append(
    h('section', { class: 'card', 'aria-labelledby': 'h-set' }, h('h2', { id: 'h-set' }, 'Global settings'), setBody),
    h('section', { class: 'card', 'aria-labelledby': 'h-faq' }, h('h2', { id: 'h-faq' }, 'Global FAQ'), faqBody),
  );

  const errorsTab = errorsPanel(rpc); // the errors of browsers and servers (admin_errors.js)
  bodies.errors.panel.append(errorsTab.section);

  const eventsSection = h('section', { class: 'card', 'aria-labelledby': 'h-events', hidden: true }, h('h2', { id: 'h-events' }, 'Live events'), eventsList);

  bodies.overview.panel.append(
    h('section', { class: 'card', 'aria-labelledby': 'h-runs' }, h('div', { class: 'card-head' }, h('h2', { id: 'h-runs' }, 'Active runs ', runsCount), liveMode), runsTable, runsEmpty),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'h-metrics' },
      h('h2', { id: 'h-metrics' }, 'Metrics'),
      metricsErr,
      metricCards,
      h('div', { class: 'charts' }, h('figure', null, chartRuns, capRuns), h('figure', null, chartWs, capWs), h('div', null, h('h3', { class: 'endings-h' }, 'Runs finished, by reason'), endings)),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'h-sessions' }, h('div', { class: 'card-head' }, h('h2', { id: 'h-sessions' }, 'Sessions'), sessionsHint), sessionsBox),
    healthSection,
    images.section,
    eventsSection,
  );

  const loaders = {
    overview: () => {
      // not again when the list was just read (the dashboard's start)
      if (Date.now() - lastRunsLoad >= RUNS_FRESH_MS) loadRuns();
      loadMetrics();
      loadSessions();
    },
    users: () => loadUsers(),
    runtimes: () => loadRuntimes(),
    platforms: () => loadPlatforms(),
    settings: () => loadSettings(),
    errors: () => errorsTab.load(),
  };

  function forbidden() {
    if (disposed) return;
    disposed = true;
    timers.forEach(clearInterval);
    replace(root, h('section', { class: 'page page-narrow' }, h('h1', null, 'Not allowed'), h('p', { class: 'notice notice-warn', role: 'alert' }, 'The admin dashboard is for admins only. Your account is not an admin.'), h('p', null, h('a', { href: '#/' }, 'Back to your projects'))));
    document.title = 'Not allowed · run-it';
  }

  // ------------------------------------------------------------- start
  (async () => {
    // the server decides: a non-admin gets FORBIDDEN and sees nothing else;
    // an admin's answer is the run list the overview shows first
    let first;
    try {
      first = await rpc.call('admin/run/list');
    } catch (e) {
      if (e.reason === 'FORBIDDEN' || e.reason === 'UNAUTHENTICATED') forbidden();
      else replace(root, h('section', { class: 'page' }, h('h1', null, 'Admin'), h('p', { class: 'form-error' }, errorText(e))));
      return;
    }
    if (disposed) return;
    replace(root, h('section', { class: 'page page-wide' }, h('div', { class: 'page-head' }, h('h1', null, 'Admin dashboard')), tabs, ...sections.map((s) => bodies[s.id].panel)));
    // the first tab at once, not after the user names load: a tab the admin
    // picks meanwhile stays theirs (loadRuns loads the names it lacks)
    if (!nameless(first.runs)) {
      renderRuns(first.runs);
      lastRunsLoad = Date.now();
    }
    show('overview');
    await setupLive();
    timers.push(
      setInterval(() => {
        // pushed events keep the list fresh when subscribed: then only a slow safety poll
        if (disposed || current !== 'overview') return;
        if (subscribed && Date.now() - lastRunsLoad < SLOW_POLL_MS) return;
        loadRuns();
      }, POLL_MS),
      setInterval(() => {
        if (disposed) return;
        loadMetrics();
        if (current === 'overview' && !subscribed && Date.now() - lastSessionsLoad >= SLOW_POLL_MS) loadSessions();
      }, METRICS_MS),
    );
  })();

  return () => {
    disposed = true;
    timers.forEach(clearInterval);
    offs.forEach((f) => f());
    loadRunsSoon.cancel();
    loadUsersSoon.cancel();
    loadSessionsSoon.cancel();
    if (subscribed) rpc.call('admin/unsubscribe').catch(() => {});
  };
}
