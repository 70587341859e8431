// errors.js - the page's uncaught errors ('error' and 'unhandledrejection'
// on window) go to the server with client/error, where the admins' Errors
// panel lists them (and Sentry gets them when the server has a DSN). Sent:
// the message, the error's type, its stack and frames, the page's route and
// the user agent; the server adds the user id. Each field is cut to fit the
// server's limits (protocol/PROTOCOL.md, client/error); the same message
// within 10 s is sent once, and at most 5 reports a minute leave a page, so
// an error in a loop cannot flood the server. A report that fails is
// dropped: reporting never throws, and never reports itself.
// Imported once by main.js: importing starts it.
import { app } from '../app.js';

const PER_MINUTE = 5;
const SAME_MS = 10000;
const sentAt = []; // times of the reports of the last minute
const lastByMessage = new Map(); // message -> time

// A string of at most n UTF-16 units (so at most 3n bytes of UTF-8).
const cut = (s, n) => (typeof s === 'string' ? s.slice(0, n) : undefined);

// "    at fn (https://host/main.js:12:5)" (Chromium) or "fn@https://host/main.js:12:5" (Firefox)
const FRAME_RE = [/^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?\s*$/, /^(.*?)@(.*?):(\d+):(\d+)\s*$/];

export function parseFrames(stack) {
  const frames = [];
  for (const line of String(stack || '').split('\n')) {
    for (const re of FRAME_RE) {
      const m = re.exec(line);
      if (m) {
        frames.push({ function: cut(m[1] || '?', 60), filename: cut(m[2], 160), lineno: Number(m[3]), colno: Number(m[4]) });
        break;
      }
    }
    if (frames.length === 50) break;
  }
  return frames;
}

function allowed(message) {
  const now = Date.now();
  while (sentAt.length && now - sentAt[0] > 60000) sentAt.shift();
  if (sentAt.length >= PER_MINUTE) return false;
  if (now - (lastByMessage.get(message) || 0) < SAME_MS) return false;
  sentAt.push(now);
  lastByMessage.set(message, now);
  if (lastByMessage.size > 50) lastByMessage.delete(lastByMessage.keys().next().value);
  return true;
}

export function reportError(kind, err, fallback, where = {}) {
  try {
    const isErr = err instanceof Error;
    const message = cut(String(isErr ? err.message || err.name : err ?? fallback ?? 'unknown error') || 'unknown error', 600);
    if (!allowed(message)) return;
    const stack = isErr && typeof err.stack === 'string' ? err.stack : '';
    const params = {
      message,
      type: cut(isErr ? err.name || 'Error' : kind === 'unhandledrejection' ? 'UnhandledRejection' : 'Error', 30),
      kind,
      route: cut(location.hash || '#/', 100),
      user_agent: cut(navigator.userAgent, 130),
    };
    if (stack) {
      params.stack = cut(stack, 5000);
      const frames = parseFrames(stack);
      if (frames.length) params.frames = frames;
    }
    if (where.url) params.url = cut(where.url, 160);
    if (where.line > 0) params.line = where.line;
    if (where.column > 0) params.column = where.column;
    app.rpc.call('client/error', params, { timeout: 10000 }).catch(() => {});
  } catch {
    /* never let reporting throw */
  }
}

window.addEventListener('error', (ev) => reportError('error', ev.error, ev.message, { url: ev.filename, line: ev.lineno, column: ev.colno }));
window.addEventListener('unhandledrejection', (ev) => reportError('unhandledrejection', ev.reason, 'unhandled promise rejection'));
