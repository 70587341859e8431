// collab.js - live co-editing of one open file (issue 14), with
// @codemirror/collab and the server's collab/* methods (protocol/PROTOCOL.md,
// "Live co-editing"): local changes are pushed one update per version,
// others' arrive as collab/update and are applied with receiveUpdates
// (which rebases what is not confirmed yet); a refused push waits for the
// updates it lacks, then goes again. Collaborators' cursors and selections
// are decorations with their names and colours; one not refreshed for
// CURSOR_TTL_MS has gone quiet and disappears.
//
// The IDE keeps one EditorView and one EditorState per open file, so a
// CollabDoc does not own a view: ide.js gives it getState() and apply(spec)
// that reach the view when the file is shown, its stored state otherwise.
import { collab, receiveUpdates, sendableUpdates, getSyncedVersion, getClientID } from '@codemirror/collab';
import { ChangeSet, StateEffect, StateField } from '@codemirror/state';
import { Decoration, EditorView, ViewPlugin, WidgetType } from '@codemirror/view';

const CURSOR_TTL_MS = 30000; // a cursor not refreshed for this long is dropped
const CURSOR_BEAT_MS = 10000; // ours is sent again this often while idle
const CURSOR_DELAY_MS = 120; // cursor moves sent at most this often
const PULL_AFTER_MS = 1500; // a refused push's missing updates, pulled if they do not come

// Colours with at least 4.5:1 contrast against white for the name labels.
const COLOURS = ['#b3261e', '#0550ae', '#116329', '#7a1fa2', '#8a4600', '#0a5c8a', '#a0310f', '#4d5d00'];
export function colourOf(userId) {
  return COLOURS[Math.abs(Number(userId) || 0) % COLOURS.length];
}

const setCursors = StateEffect.define();

class CaretWidget extends WidgetType {
  constructor(name, colour) {
    super();
    this.name = name;
    this.colour = colour;
  }
  eq(o) {
    return o.name === this.name && o.colour === this.colour;
  }
  toDOM() {
    const el = document.createElement('span');
    el.className = 'cm-remote-caret';
    el.style.borderLeftColor = this.colour;
    el.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'cm-remote-name';
    label.style.backgroundColor = this.colour;
    label.textContent = this.name;
    el.appendChild(label);
    return el;
  }
  ignoreEvent() {
    return true;
  }
}

function decorationsFor(cursors, docLength) {
  const ranges = [];
  for (const c of cursors) {
    for (const r of c.ranges) {
      const a = Math.min(r.anchor, docLength);
      const hd = Math.min(r.head, docLength);
      const from = Math.min(a, hd);
      const to = Math.max(a, hd);
      if (from < to) ranges.push(Decoration.mark({ class: 'cm-remote-selection', attributes: { style: `background-color: ${c.colour}33`, 'data-user': c.name } }).range(from, to));
      ranges.push(Decoration.widget({ widget: new CaretWidget(c.name, c.colour), side: 1 }).range(hd));
    }
  }
  return Decoration.set(ranges, true);
}

// The others' cursors: the list (for tests and the tab's title) and their decorations.
const cursorField = StateField.define({
  create: () => ({ list: [], deco: Decoration.none }),
  update(v, tr) {
    let { list, deco } = v;
    if (tr.docChanged) {
      list = list.map((c) => ({ ...c, ranges: c.ranges.map((r) => ({ anchor: tr.changes.mapPos(Math.min(r.anchor, tr.startState.doc.length)), head: tr.changes.mapPos(Math.min(r.head, tr.startState.doc.length)) })) }));
      deco = deco.map(tr.changes);
    }
    for (const e of tr.effects) {
      if (e.is(setCursors)) {
        list = e.value;
        deco = decorationsFor(list, tr.state.doc.length);
      }
    }
    return { list, deco };
  },
  provide: (f) => EditorView.decorations.from(f, (v) => v.deco),
});

const cursorTheme = EditorView.baseTheme({
  '.cm-remote-caret': { position: 'relative', borderLeft: '2px solid', marginLeft: '-1px', marginRight: '-1px' },
  '.cm-remote-name': { position: 'absolute', top: '-1.35em', left: '-2px', fontSize: '11px', lineHeight: '1.3', color: '#fff', padding: '0 4px', borderRadius: '3px 3px 3px 0', whiteSpace: 'nowrap', pointerEvents: 'none', zIndex: 5 },
});

// Join a file: {file, path, version, may_edit, session, content}.
export function joinFile(rpc, project, path) {
  return rpc.call('collab/join', { project, path });
}

export class CollabDoc {
  // joined: collab/join's answer; getState() and apply(spec) reach the file's
  // state; onReset(version, content) when the server says start again.
  constructor(rpc, joined, { getState, apply, onReset, onChange }) {
    this.rpc = rpc;
    this.file = joined.file;
    this.startVersion = joined.version;
    this.session = String(joined.session);
    this.mayEdit = joined.may_edit;
    this.getState = getState;
    this.apply = apply;
    this.onReset = onReset;
    this.onChange = onChange || (() => {});
    this.clientID = `c${Math.random().toString(36).slice(2, 10)}`;
    this.cursors = new Map(); // session -> {session, name, colour, ranges, at}
    this.inflight = false;
    this.cursorTimer = null;
    this.lastCursor = '';
    this.disposed = false;
    this.offs = [rpc.on('collab/update', (p) => this.receive(p)), rpc.on('collab/cursor', (p) => this.cursor(p))];
    this.seen = joined.version; // the newest version heard of
    this.sweep = setInterval(() => this.expire(), 5000);
    // self-healing: behind what was heard of (an update lost, a pull refused) or
    // holding changes nobody is pushing
    this.watch = setInterval(() => {
      if (this.disposed || !this.getState()) return;
      if (this.version() < this.seen) this.pull();
      else if (this.pending() && !this.checkpointing) this.push();
    }, 2000);
    this.beat = setInterval(() => this.sendCursor(true), CURSOR_BEAT_MS);
  }

  // Extensions for the file's EditorState.
  extensions() {
    const doc = this;
    return [
      collab({ startVersion: this.startVersion, clientID: this.clientID }),
      cursorField,
      cursorTheme,
      ViewPlugin.define(() => ({
        update(u) {
          if (u.docChanged || u.transactions.length) doc.push();
          if (u.selectionSet || u.docChanged) doc.scheduleCursor();
        },
      })),
    ];
  }

  version() {
    return getSyncedVersion(this.getState());
  }

  pending() {
    return this.checkpointing || sendableUpdates(this.getState()).length > 0;
  }

  // Save: once what was typed is confirmed, keep this text in the history.
  async checkpoint() {
    this.checkpointing = true;
    this.onChange();
    try {
      for (let i = 0; i < 100 && !this.disposed && sendableUpdates(this.getState()).length; i++) await new Promise((r) => setTimeout(r, 50));
      await this.rpc.call('collab/checkpoint', { file: this.file });
    } finally {
      this.checkpointing = false;
      this.onChange();
    }
  }

  // Push the first unconfirmed update on the synced version (one version per push).
  async push() {
    if (this.inflight || this.disposed || !this.mayEdit) return;
    const state = this.getState();
    const ups = sendableUpdates(state);
    if (!ups.length) return;
    this.inflight = true;
    const version = getSyncedVersion(state);
    let retryMs = 0;
    try {
      await this.rpc.call('collab/push', { file: this.file, version, client: getClientID(state), changes: ups[0].changes.toJSON() });
    } catch (e) {
      if (e.reason === 'CONFLICT') {
        this.seen = Math.max(this.seen, e.data?.version || 0);
        // the updates we lack are on their way; pull them if they do not come
        setTimeout(() => {
          if (!this.disposed && this.version() <= version) this.pull();
        }, PULL_AFTER_MS);
      } else if (e.reason === 'FORBIDDEN') {
        this.mayEdit = false;
      } else if (e.reason === 'RATE_LIMITED') {
        retryMs = 500;
      } else if (!['NOT_FOUND', 'OFFLINE', 'DISCONNECTED'].includes(e.reason)) {
        retryMs = 1000; // offline: the rejoin after the reconnect pushes
      }
    } finally {
      this.inflight = false;
    }
    if (retryMs) setTimeout(() => this.push(), retryMs);
    else if (this.pending() && this.version() !== version) this.push();
  }

  // A collab/update for this file.
  receive(p) {
    if (this.disposed || p.file !== this.file || !this.getState()) return;
    if (p.deleted) return; // file/changed tells the IDE
    if (p.version > this.seen) this.seen = p.version;
    if (p.reset) {
      this.onReset?.(p.version, p.content);
      return;
    }
    this.accept([p]);
  }

  accept(updates) {
    let synced = this.version();
    const fresh = [];
    for (const u of updates) {
      if (u.version <= synced) continue;
      if (u.version !== synced + 1) {
        this.pull();
        return;
      }
      fresh.push({ changes: ChangeSet.fromJSON(u.changes), clientID: u.client });
      synced++;
    }
    if (!fresh.length) return;
    this.apply(receiveUpdates(this.getState(), fresh));
    this.onChange();
    this.push();
  }

  async pull() {
    if (this.pulling || this.disposed) return;
    this.pulling = true;
    try {
      const r = await this.rpc.call('collab/pull', { file: this.file, version: this.version() });
      if ('content' in r) this.onReset?.(r.version, r.content);
      else this.accept(r.updates);
    } catch {
      /* left, or offline: the rejoin after a reconnect brings it back */
    } finally {
      this.pulling = false;
    }
  }

  // Back after a reconnect: rejoin from the synced version.
  async rejoin(project, path) {
    const r = await this.rpc.call('collab/join', { project, path, version: this.version() });
    this.session = String(r.session);
    if ('content' in r) this.onReset?.(r.version, r.content);
    else {
      this.accept(r.updates);
      this.push(); // what was typed offline
    }
  }

  scheduleCursor() {
    if (this.cursorTimer || this.disposed) return;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = null;
      this.sendCursor(false);
    }, CURSOR_DELAY_MS);
  }

  sendCursor(beat) {
    if (this.disposed || !this.shown?.()) return;
    const state = this.getState();
    const ranges = state.selection.ranges.slice(0, 32).map((r) => ({ anchor: r.anchor, head: r.head }));
    const key = JSON.stringify(ranges);
    if (!beat && key === this.lastCursor) return;
    this.lastCursor = key;
    this.rpc.call('collab/cursor', { file: this.file, version: getSyncedVersion(state), ranges }).catch(() => {});
  }

  cursor(p) {
    if (this.disposed || p.file !== this.file || String(p.session) === this.session || !this.getState()) return;
    if (p.left) this.cursors.delete(String(p.session));
    else this.cursors.set(String(p.session), { session: String(p.session), name: p.user.username, colour: colourOf(p.user.id), ranges: p.ranges, at: Date.now() });
    this.showCursors();
  }

  expire() {
    const now = Date.now();
    let gone = false;
    for (const [k, c] of this.cursors) {
      if (now - c.at > CURSOR_TTL_MS) {
        this.cursors.delete(k);
        gone = true;
      }
    }
    if (gone) this.showCursors();
  }

  showCursors() {
    this.apply({ effects: setCursors.of([...this.cursors.values()]) });
  }

  // The collaborators whose cursors are shown: [{name, colour}].
  people() {
    return [...this.cursors.values()].map((c) => ({ name: c.name, colour: c.colour }));
  }

  // leave: false when a new CollabDoc takes over the same file (a reset).
  destroy({ leave = true } = {}) {
    this.disposed = true;
    clearInterval(this.sweep);
    clearInterval(this.beat);
    clearInterval(this.watch);
    clearTimeout(this.cursorTimer);
    this.offs.forEach((off) => off());
    if (leave) this.rpc.call('collab/leave', { file: this.file }).catch(() => {});
  }
}
