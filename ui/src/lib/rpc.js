// rpc.js - the one websocket to the server, speaking JSON-RPC 2.0.
//
// - call(method, params) returns a promise of the result, or rejects with an
//   RpcError whose .reason is the server's data.reason (or OFFLINE /
//   DISCONNECTED / TIMEOUT from this side).
// - on(method, fn) receives server notifications (run/log, file/changed...).
// - The connection comes back by itself after a drop, with jittered
//   exponential back-off; every (re)connection starts with session/hello,
//   and 'open' listeners then restore what they need (rooms, run attach).
// - Close codes 4001, 4003, 4009 and 4010 mean "do not reconnect by
//   yourself" (protocol/PROTOCOL.md); the state becomes 'closed'.

export class RpcError extends Error {
  constructor(reason, message, data = null, code = -32000) {
    super(message || reason);
    this.reason = reason;
    this.data = data;
    this.code = code;
  }
}

const NO_RECONNECT = new Map([
  [4001, 'This session was opened somewhere else.'],
  [4003, 'The server refused this page’s origin.'],
  [4009, 'Too many invalid messages were sent.'],
  [4010, 'Your account has been disabled by an admin.'],
]);

export class Rpc {
  constructor(url, { client = 'run-it-ui/0.1.0' } = {}) {
    this.url = url;
    this.client = client;
    this.ws = null;
    this.state = 'idle'; // idle | connecting | open | offline | closed
    this.hello = null;
    this.nextId = 1;
    this.inflight = new Map(); // id -> {resolve, reject, timer, method}
    this.queue = []; // calls waiting for the connection
    this.handlers = new Map(); // method -> Set(fn)
    this.stateHandlers = new Set();
    this.openHandlers = new Set();
    this.attempt = 0;
    this.retryAt = 0;
    this.retryTimer = null;
    this.closeInfo = null;
    this.everOpened = false;
    this.readyWaiters = [];
    window.addEventListener('online', () => {
      if (this.state === 'offline') this.connectNow();
    });
  }

  // ---- events ----

  on(method, fn) {
    if (!this.handlers.has(method)) this.handlers.set(method, new Set());
    this.handlers.get(method).add(fn);
    return () => this.handlers.get(method)?.delete(fn);
  }

  onState(fn) {
    this.stateHandlers.add(fn);
    return () => this.stateHandlers.delete(fn);
  }

  // fn({reconnected}) after every successful session/hello
  onOpen(fn) {
    this.openHandlers.add(fn);
    return () => this.openHandlers.delete(fn);
  }

  setState(s) {
    this.state = s;
    for (const fn of this.stateHandlers) {
      try {
        fn(s, this);
      } catch (e) {
        console.error(e);
      }
    }
  }

  // resolves once a session/hello has been answered on the current socket
  ready() {
    if (this.state === 'open') return Promise.resolve(this.hello);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  // ---- connection ----

  connect() {
    if (this.ws) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.closeInfo = null;
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.sayHello(ws);
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.closed(ws, ev);
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  connectNow() {
    this.attempt = 0;
    if (this.ws) return;
    this.connect();
  }

  // Drop the socket and open a new one at once (after the session cookie changed).
  reconnect() {
    const old = this.ws;
    this.ws = null;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      try {
        old.close(1000, 'reconnect');
      } catch {
        /* already closed */
      }
      this.failInflight('DISCONNECTED', 'the connection was reset');
    }
    this.hello = null;
    this.attempt = 0;
    this.connect();
    return this.ready();
  }

  async sayHello(ws) {
    try {
      const r = await this.send(ws, 'session/hello', { client: this.client }, 10000);
      if (ws !== this.ws) return;
      const reconnected = this.everOpened;
      this.hello = r;
      this.everOpened = true;
      this.attempt = 0;
      this.setState('open');
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      waiters.forEach((w) => w(r));
      for (const fn of this.openHandlers) {
        try {
          fn({ reconnected, hello: r });
        } catch (e) {
          console.error(e);
        }
      }
      const q = this.queue;
      this.queue = [];
      for (const c of q) this.dispatchQueued(c);
    } catch (e) {
      if (ws === this.ws) ws.close(4000, 'hello failed');
    }
  }

  closed(ws, ev) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.hello = null;
    this.failInflight('DISCONNECTED', 'the connection to the server was lost');
    const why = NO_RECONNECT.get(ev.code);
    if (why) {
      this.closeInfo = { code: ev.code, message: why };
      this.failQueue('OFFLINE', why);
      this.setState('closed');
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    // full jitter between half and all of min(30 s, 0.5 s * 2^attempt)
    const base = Math.min(30000, 500 * 2 ** this.attempt);
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.attempt = Math.min(this.attempt + 1, 10);
    this.retryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.setState('offline');
  }

  failInflight(reason, message) {
    const pending = [...this.inflight.values()];
    this.inflight.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(new RpcError(reason, message));
    }
  }

  failQueue(reason, message) {
    const q = this.queue;
    this.queue = [];
    for (const c of q) {
      clearTimeout(c.timer);
      c.reject(new RpcError(reason, message));
    }
  }

  // ---- calls ----

  // call(method, params, {timeout}) : waits for the connection (up to the
  // timeout) when it is down.
  call(method, params = {}, { timeout = 30000 } = {}) {
    if (this.state === 'open' && this.ws) return this.send(this.ws, method, params, timeout);
    if (this.state === 'closed') {
      return Promise.reject(new RpcError('OFFLINE', this.closeInfo?.message || 'disconnected'));
    }
    return new Promise((resolve, reject) => {
      const c = { method, params, timeout, resolve, reject, timer: null };
      c.timer = setTimeout(() => {
        this.queue = this.queue.filter((x) => x !== c);
        reject(new RpcError('OFFLINE', 'the server cannot be reached right now'));
      }, Math.min(timeout, 15000));
      this.queue.push(c);
    });
  }

  dispatchQueued(c) {
    clearTimeout(c.timer);
    this.send(this.ws, c.method, c.params, c.timeout).then(c.resolve, c.reject);
  }

  send(ws, method, params, timeout) {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.inflight.delete(id);
        reject(new RpcError('TIMEOUT', `${method}: no answer from the server`));
      }, timeout);
      this.inflight.set(id, { resolve, reject, timer, method });
      try {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      } catch (e) {
        clearTimeout(timer);
        this.inflight.delete(id);
        reject(new RpcError('DISCONNECTED', 'the connection is closed'));
      }
    });
  }

  // A notification to the server (no answer).
  notify(method, params = {}) {
    if (this.state !== 'open' || !this.ws) return false;
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
    return true;
  }

  receive(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      console.warn('run-it: unparsable frame from the server');
      return;
    }
    if (m && m.id != null && ('result' in m || 'error' in m)) {
      const p = this.inflight.get(m.id);
      if (!p) return;
      this.inflight.delete(m.id);
      clearTimeout(p.timer);
      if (m.error) {
        const e = m.error;
        p.reject(new RpcError(e.data?.reason || 'ERROR', e.message, e.data || null, e.code));
      } else {
        p.resolve(m.result ?? {});
      }
      return;
    }
    if (m && typeof m.method === 'string') {
      const set = this.handlers.get(m.method);
      if (!set) return;
      for (const fn of [...set]) {
        try {
          fn(m.params || {});
        } catch (e) {
          console.error(e);
        }
      }
    }
  }
}
