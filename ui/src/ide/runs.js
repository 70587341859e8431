// runs.js - what a run's events mean for the page: the words of the status
// line and a tracker that drops events whose seq has been seen already.
import { fmtSeconds } from '../lib/dom.js';

export const ACTIVE_STATES = new Set(['queued', 'starting', 'building', 'running', 'stopping']);

export function stateText(state) {
  return (
    {
      queued: 'Queued…',
      starting: 'Starting…',
      building: 'Building…',
      running: 'Running…',
      stopping: 'Stopping…',
    }[state] || state
  );
}

// The end of a run in words: "Exited with code 0 in 0.3 s", "Timed out
// after 10 s", "Stopped", "Replaced by a newer run", ...
export function exitText(x) {
  const dur = x.duration_ms;
  switch (x.reason) {
    case 'exited':
      return `Exited with code ${x.exit_code ?? '?'} in ${fmtSeconds(dur || 0)}`;
    case 'timeout': {
      const m = /after ([\d.]+) s/.exec(x.message || '');
      const secs = m ? Number(m[1]) : (dur || 0) / 1000;
      return `Timed out after ${Number.isInteger(secs) ? secs : secs < 10 ? secs.toFixed(1) : Math.round(secs)} s`;
    }
    case 'stopped':
      return 'Stopped';
    case 'replaced':
      return 'Replaced by a newer run';
    case 'oom':
      return 'Out of memory';
    case 'output_limit':
      return 'Output limit reached';
    case 'cancelled': {
      // with a code the server says why (access lost, account disabled, ...);
      // a history row has it as error
      const why = x.message || x.error;
      return x.code && why ? `Cancelled: ${why}` : 'Cancelled by an admin';
    }
    case 'pool_full': {
      const why = x.message || x.error;
      return `Pool full${why ? `: ${why}` : ''}`;
    }
    case 'build_failed':
      return 'Build failed';
    case 'build_timeout': {
      const m = /after ([\d.]+) s/.exec(x.message || '');
      return m ? `Build timed out after ${Number(m[1])} s` : 'Build timed out';
    }
    case 'error':
      return `Error${x.message ? `: ${x.message}` : ''}`;
    default:
      return x.reason ? `Ended: ${x.reason}` : 'Ended';
  }
}

// ok | warn | error: for the colour of the status.
export function exitKind(x) {
  if (x.reason === 'exited') return x.exit_code === 0 ? 'ok' : 'error';
  if (x.reason === 'stopped' || x.reason === 'replaced') return 'neutral';
  return 'error';
}

// A history row as an exit: the stored run has the same fields.
export function historyText(run) {
  if (run.state && run.state !== 'finished') return stateText(run.state);
  return exitText(run);
}

// " · first output after 1.2 s" for a history entry, or "" where it would
// confuse: the time to first output counts from Run (container start and
// build included), the duration from the program's start, so it is shown
// only when it is shorter than the duration (a program that printed late),
// never for one that printed nothing or did not get to run.
export function firstOutputText(run) {
  const fb = run.first_byte_ms;
  const dur = run.duration_ms;
  if (fb == null || dur == null || run.reason === 'build_failed' || run.reason === 'build_timeout') return '';
  if (fb >= dur) return '';
  return ` · first output after ${fmtSeconds(fb)}`;
}

// Per-run sequence bookkeeping. accept(run, seq) is false for an event
// already applied (a seq at or below the last one seen).
export class SeqTracker {
  constructor() {
    this.last = new Map();
  }

  lastSeq(run) {
    return this.last.get(run) || 0;
  }

  accept(run, seq) {
    if (typeof seq !== 'number') return true;
    if (seq <= this.lastSeq(run)) return false;
    this.last.set(run, seq);
    return true;
  }

  skipTo(run, seq) {
    if (seq > this.lastSeq(run)) this.last.set(run, seq);
  }
}
