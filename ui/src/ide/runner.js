// runner.js - the IDE's console and its runs: the console (ide/console.js)
// with Copy and Clear, the status line with the live elapsed time, the
// runs' events (run/status, run/log, run/gap, run/exit, each applied once by
// seq), stdin and the terminal's size, Stop, resuming runs after a
// reconnect, and the latest run's output shown to a visitor. The page
// (pages/ide.js) keeps the files and Run, which saves them first.
import { h, replace, toastError, errorText, debounce } from '../lib/dom.js';
import { onThemeChange } from '../lib/theme.js';
import { RunConsole } from './console.js';
import { stateText, exitText, exitKind, SeqTracker, ACTIVE_STATES } from './runs.js';

// Which project each run belongs to, across page changes in this tab (a run
// started here keeps sending to this session after you leave the project).
const runProject = new Map();

// ctx: {rpc, projectId, me, offs (unsubscribers, the page calls them), els
// (the DOM the page built), canEdit(), project(), showPanel(id, focus),
// currentPanel(), history()}.
/* What a POOL_FULL answer of run/start says (sql/020_pool.sql): the
 * server's sentence names the projects whose runs hold the user's pool;
 * the holders' list (data.holders) adds what each one holds. */
export function poolFullText(e) {
  const holders = Array.isArray(e?.data?.holders) ? e.data.holders : [];
  const held = holders.map((x) => `“${x.project}” (run ${x.run_id}: ${x.cpu_millis} millicores, ${Math.round(x.mem_bytes / 1048576)} MiB)`);
  return held.length ? `${e.message}. Held by ${held.join(', ')}` : e.message || 'your resource pool is full';
}

export function createRunner(ctx) {
  const { rpc, projectId, me, offs } = ctx;
  const { consoleHost, consoleHint, gapNotice, copyBtn, clearBtn, statusText, statusEl, statusBox, elapsedEl, runBtn, stopBtn } = ctx.els;
  const seqs = new SeqTracker();
  const runs = new Map(); // run id -> {id, user, username, state, exit, mine, header, since}
  let currentRun = null;

  // ------------------------------------------------------------- console
  const term = new RunConsole(consoleHost, {
    onInput: async (data, eof) => {
      const run = stdinRun();
      if (!run) return;
      try {
        await rpc.call('run/stdin', { run, data, ...(eof ? { eof: true } : {}) });
      } catch (e) {
        term.notice(`[input not sent: ${errorText(e)}]`, '33');
      }
    },
    canInput: () => !!stdinRun(),
    onInterrupt: () => stop(),
    isTty: () => !!runs.get(stdinRun())?.tty,
    onRaw: (data) => sendRaw(data),
    onResize: () => sendSize(),
    onCopy: () => {
      replace(consoleHint, 'Copied the selection.');
      hintBack();
    },
  });
  term.setKeyHandler((e) => {
    if (e.type === 'keydown' && (e.ctrlKey || e.metaKey) && (e.key === 'Enter' || e.key === '.' || e.key === 's')) return false;
    return true;
  });
  offs.push(onThemeChange((t) => term.setTheme(t)));
  copyBtn.addEventListener('click', async () => {
    const text = term.text();
    await term.copy(text);
    replace(consoleHint, text ? `Copied ${text.split('\n').length} lines.` : 'The console is empty.');
    hintBack();
  });
  clearBtn.addEventListener('click', () => {
    term.clear();
    gapNotice.hidden = true;
    term.focus();
  });
  // --------------------------------------------------------------- status
  function setStatus(text, kind) {
    statusText.textContent = text;
    statusEl.dataset.kind = kind;
    statusBox.dataset.kind = kind;
  }

  // The live elapsed time of the current run while it builds and runs,
  // counted from when this page first heard of it (Run pressed, or the
  // first event of a run started elsewhere).
  let clock = null; // {run, since}
  let clockTimer = null;
  function fmtElapsed(ms) {
    const s = Math.max(0, ms) / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')} min`;
  }
  function tickClock() {
    const r = clock && runs.get(clock.run);
    if (!r || r.exit || r.id !== currentRun) {
      stopClock();
      return;
    }
    elapsedEl.textContent = fmtElapsed(Date.now() - clock.since);
  }
  function startClock(r) {
    if (clock?.run === r.id) return;
    clock = { run: r.id, since: r.since || Date.now() };
    clearInterval(clockTimer);
    clockTimer = setInterval(tickClock, 100);
    tickClock();
  }
  function stopClock() {
    clearInterval(clockTimer);
    clockTimer = null;
    clock = null;
    elapsedEl.textContent = '';
  }

  function myActiveRun() {
    let best = null;
    // collab (issue 14): editors may stop a run another member started (the shared console)
    for (const r of runs.values()) if ((r.mine || ((me.role === 'admin' || ctx.canEdit()) && r.id === currentRun)) && !r.exit && (!best || r.id > best.id)) best = r;
    return best;
  }

  // A run with a terminal takes keys from its start (the server holds them
  // until the program reads); one with pipes once it runs.
  function stdinRun() {
    const r = myActiveRun();
    if (!r || !r.mine) return null;
    if (r.tty) return r.state !== 'stopping' && r.state !== 'finished' ? r.id : null;
    return r.state === 'running' || r.state === 'building' ? r.id : null;
  }

  // Keystrokes for a terminal run, in order (one websocket keeps it), in
  // pieces within run/stdin's 64 KiB.
  async function sendRaw(data) {
    const run = stdinRun();
    if (!run) return;
    for (let i = 0; i < data.length; i += 16000) {
      try {
        await rpc.call('run/stdin', { run, data: data.slice(i, i + 16000) });
      } catch (e) {
        term.notice(`[input not sent: ${errorText(e)}]`, '33');
        return;
      }
    }
  }

  // The console's size, for the terminal of my live run: sent once the
  // panel has stopped changing for a moment.
  const sendSize = debounce(async () => {
    const r = myActiveRun();
    if (!r || !r.mine || !r.tty || r.exit) return;
    const size = termSize();
    if (r.size && r.size.rows === size.rows && r.size.cols === size.cols) return;
    r.size = size;
    try {
      await rpc.call('run/resize', { run: r.id, ...size });
    } catch {
      /* the run ended meanwhile */
    }
  }, 150);

  function termSize() {
    const clamp = (n) => Math.max(1, Math.min(1000, n | 0));
    return { cols: clamp(term.cols), rows: clamp(term.rows) };
  }

  const hintBack = debounce(() => updateButtons(), 1500);

  function updateButtons() {
    const r = myActiveRun();
    stopBtn.disabled = !r;
    runBtn.disabled = !ctx.canEdit();
    if (stdinRun() && runs.get(stdinRun())?.tty) replace(consoleHint, 'Running in a terminal: type here. Ctrl+C interrupts (copies when text is selected), Ctrl+D ends input.');
    else if (stdinRun()) replace(consoleHint, 'Running: type here to send input (Enter sends a line, Ctrl+D ends it).');
    else replace(consoleHint, 'A terminal: output in the order written (', h('span', { class: 'legend-err' }, 'stderr in red'), ' only for runs without one).');
  }

  // ----------------------------------------------------------------- runs
  function runInfo(id) {
    let r = runs.get(id);
    if (!r) {
      r = { id, state: 'queued', exit: null, mine: false, header: false, user: null, username: null, since: Date.now() };
      runs.set(id, r);
    }
    return r;
  }

  function belongsHere(p) {
    if (p.project != null) {
      runProject.set(p.run, p.project);
      return p.project === projectId;
    }
    const known = runProject.get(p.run);
    return known == null || known === projectId;
  }

  function header(r) {
    if (r.header) return;
    r.header = true;
    const who = r.mine ? '' : r.username ? ` by ${r.username}` : r.user && r.user !== me.id ? ' by another user' : '';
    term.notice(`── Run #${r.id}${who} ──`, '2;36');
  }

  function becomeCurrent(r) {
    if (currentRun == null || r.id >= currentRun) currentRun = r.id;
  }

  function onStatus(p) {
    if (!belongsHere(p) || !seqs.accept(p.run, p.seq)) return;
    const r = runInfo(p.run);
    r.state = p.state;
    if (p.by && !r.username) Object.assign(r, { user: p.by.id, username: p.by.username }); // collab: who started it
    becomeCurrent(r);
    header(r);
    // "stopping" also comes when a program ends by itself (its container is
    // being removed): say "Stopping…" only after Stop; run/exit says the rest
    if (p.state === 'stopping' && !r.stopRequested) {
      updateButtons();
      return;
    }
    // no engine has room: its place in the fair queue (README "The fair
    // queue"), said in the console each time it moves
    if (p.state === 'queued' && p.position && p.position !== r.position && !r.exit) {
      r.position = p.position;
      term.notice(`Queued (position ${p.position})`, '2;33');
    }
    if (r.id === currentRun && !r.exit) {
      setStatus(p.state === 'queued' && p.position ? `Queued (position ${p.position})` : stateText(p.state), 'busy');
      startClock(r);
    }
    updateButtons();
  }

  function onLog(p) {
    if (!belongsHere(p) || !seqs.accept(p.run, p.seq)) return;
    const r = runInfo(p.run);
    becomeCurrent(r);
    header(r);
    if (r.state === 'queued' || r.state === 'starting') {
      r.state = 'running';
      if (r.id === currentRun) {
        setStatus(stateText('running'), 'busy');
        startClock(r);
      }
    }
    term.output(p.stream, p.data, !!r.tty);
  }

  function onGap(p) {
    if (!belongsHere(p)) return;
    if (p.to <= seqs.lastSeq(p.run)) return;
    seqs.skipTo(p.run, p.to);
    const n = p.to - p.from + 1;
    term.notice(`[${n} part${n === 1 ? '' : 's'} of the output (#${p.from}–#${p.to}) skipped here: too much at once. History has the complete log.]`, '33');
    replace(gapNotice, `Some output of run #${p.run} was skipped in the console. `, h('button', { type: 'button', class: 'btn btn-small', onclick: () => ctx.showPanel('history', true) }, 'See the full log in History'));
    gapNotice.hidden = false;
  }

  function onExit(p) {
    if (!belongsHere(p) || !seqs.accept(p.run, p.seq)) return;
    const r = runInfo(p.run);
    r.exit = p;
    r.state = 'finished';
    becomeCurrent(r);
    header(r);
    const kind = exitKind(p);
    term.notice(`[${exitText(p)}]`, kind === 'ok' ? '32' : kind === 'error' ? '31' : '2');
    if (clock?.run === r.id) stopClock();
    if (r.id === currentRun) setStatus(exitText(p), kind);
    updateButtons();
    refreshHistory();
  }

  offs.push(rpc.on('run/status', onStatus), rpc.on('run/log', onLog), rpc.on('run/gap', onGap), rpc.on('run/exit', onExit));

  const refreshHistory = debounce(() => {
    if (ctx.currentPanel() === 'history') ctx.history()?.load();
  }, 400);

  // Replay a run into the console from the first seq not seen yet.
  async function attach(runId, { quiet = false } = {}) {
    const r = runInfo(runId);
    runProject.set(runId, projectId);
    try {
      const res = await rpc.call('run/attach', { run: runId, from_seq: seqs.lastSeq(runId) + 1 });
      if (!res.live && !r.exit) {
        r.state = 'finished';
        updateButtons();
      }
    } catch (e) {
      if (!quiet) toastError(e, 'Resume the run');
    }
  }

  async function stop() {
    const r = myActiveRun();
    if (!r) return;
    r.stopRequested = true;
    setStatus('Stopping…', 'busy');
    try {
      await rpc.call(r.mine || ctx.canEdit() ? 'run/stop' : 'admin/run/cancel', { run: r.id });
    } catch (e) {
      if (e.reason === 'NOT_FOUND') {
        r.exit = r.exit || { reason: 'stopped' };
        updateButtons();
      } else toastError(e, 'Stop');
    }
  }


  async function resumeRuns() {
    // live runs known here: resume from the last seq seen
    for (const r of runs.values()) if (!r.exit) await attach(r.id, { quiet: true });
    // and any active run the history knows of
    try {
      const hist = await rpc.call('run/history', { project: projectId, limit: 10 });
      const last = (hist.runs || [])[0];
      if (last && currentRun == null && last.state === 'finished') setStatus(`Last run: ${exitText(last)}`, exitKind(last));
      for (const x of (hist.runs || []).slice().reverse()) {
        if (x.state && ACTIVE_STATES.has(x.state) && (!runs.has(x.run) || !runs.get(x.run).exit)) {
          const info = runInfo(x.run);
          info.user = x.user;
          info.username = x.username;
          info.mine = x.user === me.id;
          info.tty = !!x.tty;
          if (seqs.lastSeq(x.run) === 0 || !runs.get(x.run)?.header) await attach(x.run, { quiet: true });
        }
      }
    } catch {
      /* viewers of public projects have no history */
    }
    updateButtons();
  }


  // A visitor sees the latest run's output when the owner shared it.
  async function showLatestRun() {
    const project = ctx.project();
    if (!project.public_runs) {
      term.notice('The owner keeps the output of runs private.', '2');
      return;
    }
    try {
      const r = await rpc.call('run/latest', { project: projectId });
      if (!r.run) {
        term.notice('No run has finished yet.', '2');
        return;
      }
      term.notice(`── Latest run #${r.run.run} ──`, '2;36');
      for (const c of r.chunks) {
        if (c.stream !== 'meta') {
          term.output(c.stream, c.data, !!r.run.tty);
          continue;
        }
        try {
          const x = JSON.parse(c.data);
          term.notice(`[${exitText(x)}]`, exitKind(x) === 'ok' ? '32' : exitKind(x) === 'error' ? '31' : '2');
        } catch {
          /* not an exit */
        }
      }
      if (r.truncated) term.notice('[the run printed more than is shown here]', '33');
      setStatus(`Latest run: ${exitText(r.run)}`, exitKind(r.run));
    } catch (e) {
      term.notice(`[the latest run’s output: ${errorText(e)}]`, '33');
    }
  }


  return {
    term,
    runs,
    setStatus,
    runInfo,
    becomeCurrent,
    updateButtons,
    termSize,
    refreshHistory,
    attach,
    stop,
    resumeRuns,
    showLatestRun,
    stopClock,
    // no run of this page is live (Run may say "Starting…")
    idle: () => currentRun == null || !!runs.get(currentRun)?.exit,
    own: (run) => runProject.set(run, projectId),
    // the clock of a run started here counts from when Run was pressed
    clockFrom: (r) => {
      if (clock?.run === r.id) clock.since = r.since;
    },
  };
}
