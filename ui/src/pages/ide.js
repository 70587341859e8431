// ide.js - the project page: file tree, editor, Run/Stop with status, the
// console, run history, environment variables, FAQ and presence.
import { h, replace, toast, toastError, errorText, modal, promptDialog, confirmDialog, modKey } from '../lib/dom.js';
import { app, navigate } from '../app.js';
import { makeState, makeView, readOnlyView } from '../ide/editor.js';
import { CollabDoc, joinFile } from '../ide/collab.js'; // collab (issue 14)
import { FileTree, pathProblem } from '../ide/filetree.js';
import { HistoryPanel, EnvPanel, FaqPanel } from '../ide/panels.js';
import { createRunner, poolFullText } from '../ide/runner.js';
import { buildIdeView, panelSwitcher } from '../ide/view.js';
import { showFileHistory, restoreRunCode } from '../ide/versions.js';
import { Layout, narrowQuery } from '../ide/layout.js';
import { renderHead as renderIdeHead } from '../ide/head.js';
import { bindShortcuts } from '../ide/shortcuts.js';

const AUTOSAVE_MS = 800;
const PRESENCE_POLL_MS = 5000;

export function mount(root, { params }) {
  const rpc = app.rpc;
  const projectId = Number(params.id);
  // a visitor who has not signed in reads a public project (no runs, no writes)
  const signedIn = !!app.user;
  const me = app.user || { id: 0, username: 'visitor', role: 'anonymous' };
  const offs = [];
  let disposed = false;
  let project = null;
  let access = 'public';
  let canEdit = false;
  let canManage = false;

  // files and editor buffers
  const files = new Map(); // path -> {version, size}
  const folders = new Set(); // empty folders made in this page
  const buffers = new Map(); // path -> {state, version, saved, saving, conflict, timer, again}
  let tabs = [];
  let active = null;
  let view = null;
  const runSaving = new Map(); // path -> content sent with run/start

  let startPending = false;

  // ---------------------------------------------------------------- DOM
  const {
    statusText, statusEl, elapsedEl, statusBox, runBtn, stopBtn, titleEl, headActions, runtimeBadge, readOnlyNote,
    treeHost, fileTools, presenceList, presenceNote, sideToggle, tabBar, saveState, fileHistBtn, conflictBar, cmHost,
    editorEmpty, consoleHost, gapNotice, clearBtn, copyBtn, maxBtn, consoleHint, panelDefs, panels, side, editorPane,
    panelPane, ideBody, ide,
  } = buildIdeView();
  fileHistBtn.addEventListener('click', () => fileHistory());
  root.className = 'main-ide';
  replace(root, ide);

  // the divider drags and the maximised console (ide/layout.js)
  const layout = new Layout({ ide, body: ideBody, side, editor: editorPane, panel: panelPane, onChange: () => requestAnimationFrame(() => term?.refit()) });
  layout.bindMaxButton(maxBtn, () => showPanel('console'));

  sideToggle.addEventListener('click', () => {
    const open = !ide.classList.toggle('side-collapsed');
    sideToggle.setAttribute('aria-expanded', String(open));
  });

  // ------------------------------------------------------------- panels
  let envLoaded = false;
  let faqLoaded = false;
  const panelCtl = panelSwitcher(panelDefs, panels, (id) => {
    if (id === 'console') requestAnimationFrame(() => term?.refit());
    if (id === 'history') history?.load();
    if (id === 'env' && !envLoaded) {
      envLoaded = true;
      env?.load();
    }
    if (id === 'faq' && !faqLoaded) {
      faqLoaded = true;
      faq?.load();
    }
  });
  const showPanel = (id, focus = false) => panelCtl.show(id, focus);

  // ----------------------------------------------- console and runs
  // (ide/runner.js: the console, the status, the runs' events, Stop)
  const runner = createRunner({
    rpc,
    projectId,
    me,
    offs,
    els: { consoleHost, consoleHint, gapNotice, copyBtn, clearBtn, statusText, statusEl, statusBox, elapsedEl, runBtn, stopBtn },
    canEdit: () => canEdit,
    project: () => project,
    showPanel: (id, focus) => showPanel(id, focus),
    currentPanel: () => panelCtl.current(),
    history: () => history,
  });
  const { term, runs, setStatus, runInfo, becomeCurrent, updateButtons, termSize, refreshHistory, attach, stop, resumeRuns, showLatestRun } = runner;
  offs.push(rpc.onState(() => refreshEditorUi()));
  showPanel('console');

  let history = null;
  let env = null;
  let faq = null;

  async function run() {
    if (!canEdit || !project) return;
    startPending = true;
    // pending autosaves go with the run instead
    for (const b of buffers.values()) clearTimeout(b.timer);
    await Promise.allSettled([...buffers.values()].map((b) => b.saving).filter(Boolean));
    const sent = {};
    for (const [path, b] of buffers) {
      const doc = docOf(path);
      if (doc !== b.saved) sent[path] = doc;
    }
    for (const [k, v] of Object.entries(sent)) runSaving.set(k, v);
    if (runner.idle()) setStatus('Starting…', 'busy');
    const pressed = Date.now();
    // the output is what one wants to see now: on a phone the console is
    // below the editor, so bring it into view
    if (panelCtl.current() !== 'console') showPanel('console');
    if (narrowQuery.matches) panelPane.scrollIntoView({ block: 'start' });
    try {
      const size = termSize();
      const res = await rpc.call('run/start', { project: projectId, ...(Object.keys(sent).length ? { files: sent } : {}), tty: true, ...size });
      runner.own(res.run);
      const r = runInfo(res.run);
      r.since = Math.min(r.since, pressed);
      r.mine = true;
      r.tty = !!res.tty;
      r.size = size;
      r.user = me.id;
      r.username = me.username;
      runner.clockFrom(r);
      becomeCurrent(r);
      updateButtons();
    } catch (e) {
      if (e.reason === 'CONFLICT' && /superseded/i.test(e.message)) return; // a newer Run won
      const msg = {
        RUN_QUOTA: 'You have too many runs going: stop one first',
        POOL_FULL: e.reason === 'POOL_FULL' ? poolFullText(e) : '',
        RUNTIME_DISABLED: 'This runtime has been disabled by an admin',
        IMAGE_MISSING: "This runtime is not installed on the server yet (its image is missing): ask an admin to build it",
        PLATFORM_UNAVAILABLE: 'The container platform is unavailable right now; try again soon',
        FORBIDDEN: 'You cannot run this project: fork it to run it',
      }[e.reason];
      setStatus(`Could not start: ${msg || errorText(e)}`, 'error');
    } finally {
      startPending = false;
      await settleRunSaves(sent);
      refreshHistory();
    }
  }

  // After run/start saved unsaved buffers: take the versions it made.
  async function settleRunSaves(sent) {
    for (const [path, content] of Object.entries(sent)) {
      try {
        const f = await rpc.call('file/read', { project: projectId, path });
        const b = buffers.get(path);
        files.set(path, { version: f.version, size: f.size });
        if (b && f.content === content) {
          b.version = f.version;
          b.saved = content;
        } else if (b && f.version > b.version && !b.conflict) {
          b.conflict = { version: f.version, content: f.content };
        }
      } catch {
        /* the file went away meanwhile */
      }
      runSaving.delete(path);
    }
    refreshEditorUi();
  }

  runBtn.addEventListener('click', () => run());
  stopBtn.addEventListener('click', () => stop());

  // -------------------------------------------------------------- editor
  function docOf(path) {
    const b = buffers.get(path);
    if (!b) return null;
    return path === active && view ? view.state.doc.toString() : b.state.doc.toString();
  }

  function isDirty(path) {
    const b = buffers.get(path);
    if (b?.collab) return false; // collab: live edits are saved as they are made
    return !!b && docOf(path) !== b.saved;
  }

  function dirtySet() {
    const s = new Set();
    for (const p of buffers.keys()) if (isDirty(p)) s.add(p);
    return s;
  }

  const editorKeys = [
    { key: 'Mod-Enter', run: () => (run(), true), preventDefault: true },
    { key: 'Mod-s', run: () => (saveNow(), true), preventDefault: true },
    { key: 'Mod-.', run: () => (stop(), true), preventDefault: true },
  ];

  function onEditorUpdate(u) {
    if (!u.docChanged || !active) return;
    const b = buffers.get(active);
    if (!b) return;
    scheduleSave(active);
    refreshEditorUi();
  }

  function stateFor(path, content, extra = []) {
    return makeState(content, path, { readOnly: !canEdit, keys: editorKeys, onUpdate: onEditorUpdate, extra });
  }

  // ---- collab (issue 14): a joined file's CollabDoc (ide/collab.js) reaches
  // the view when the file is shown, its stored state otherwise
  function makeCollab(path, joined) {
    const doc = new CollabDoc(rpc, joined, {
      getState: () => (path === active && view ? view.state : buffers.get(path)?.state),
      apply: (spec) => {
        const b = buffers.get(path);
        if (path === active && view) view.dispatch(spec);
        else if (b) b.state = b.state.update(spec).state;
      },
      onReset: (version, content) => resetCollab(path, version, content),
      onChange: () => {
        const b = buffers.get(path);
        if (b) b.version = doc.version(); // file/restore's base_version
        refreshEditorUi();
      },
    });
    doc.shown = () => path === active && !!view;
    return doc;
  }

  function resetCollab(path, version, content) {
    const b = buffers.get(path);
    if (!b?.collab) return;
    const old = b.collab;
    old.destroy({ leave: false });
    b.collab = makeCollab(path, { file: old.file, version, session: old.session, may_edit: old.mayEdit });
    b.state = stateFor(path, content, b.collab.extensions());
    Object.assign(b, { version, saved: content });
    if (path === active && view) view.setState(b.state);
  }

  async function openFile(path, { focus = true } = {}) {
    if (!buffers.has(path)) {
      let f;
      let joined = null;
      try {
        joined = await joinFile(rpc, projectId, path).catch(() => null); // collab: live co-editing
        f = joined || (await rpc.call('file/read', { project: projectId, path }));
      } catch (e) {
        toastError(e, `Open ${path}`);
        return;
      }
      if (disposed) return;
      if (!buffers.has(path)) {
        const b = { version: f.version, saved: f.content, saving: null, conflict: null, timer: null };
        buffers.set(path, b);
        b.collab = joined ? makeCollab(path, joined) : null;
        b.state = stateFor(path, f.content, b.collab ? b.collab.extensions() : []);
      }
    }
    if (active && buffers.has(active) && view) buffers.get(active).state = view.state;
    const b = buffers.get(path);
    active = path;
    if (!tabs.includes(path)) tabs.push(path);
    if (!view) view = makeView(cmHost, b.state);
    else view.setState(b.state);
    refreshEditorUi();
    if (focus) view.focus();
    if (signedIn) rpc.call('presence/update', { project: projectId, file: path }).catch(() => {});
  }

  function closeTab(path) {
    if (isDirty(path)) save(path);
    tabs = tabs.filter((t) => t !== path);
    if (active === path) {
      if (view && buffers.has(path)) buffers.get(path).state = view.state;
      active = null;
      if (tabs.length) openFile(tabs[tabs.length - 1]);
    }
    refreshEditorUi();
  }

  function refreshEditorUi() {
    if (disposed) return;
    const dirty = dirtySet();
    // tabs
    replace(
      tabBar,
      tabs.map((p) => {
        const name = p.split('/').pop();
        const d = dirty.has(p);
        const b = buffers.get(p);
        const tab = h(
          'li',
          { class: `editor-tab${p === active ? ' active' : ''}${b?.conflict ? ' conflict' : ''}` },
          h('button', { type: 'button', 'aria-current': p === active ? 'true' : null, class: 'editor-tab-open', title: p, 'aria-label': `${p}${d ? ', unsaved changes' : ''}${b?.conflict ? ', conflict' : ''}`, onclick: () => openFile(p) }, name, d ? h('span', { class: 'dirty-dot', 'aria-hidden': 'true' }, '●') : null),
          h('button', { type: 'button', class: 'editor-tab-close', 'aria-label': `Close ${p}`, title: `Close ${p}`, onclick: () => closeTab(p) }, '×'),
        );
        return tab;
      }),
    );
    cmHost.hidden = !active;
    fileHistBtn.hidden = !active || access === 'public';
    fileHistBtn.setAttribute('aria-label', active ? `File history of ${active}` : 'File history');
    editorEmpty.hidden = !!active;
    // save state of the active file
    const b = active ? buffers.get(active) : null;
    if (!b) saveState.textContent = '';
    else if (!canEdit) saveState.textContent = 'Read-only';
    else if (b.collab) saveState.textContent = b.collab.pending() ? 'Saving…' : 'Saved'; // collab: live edits
    else if (b.conflict) saveState.textContent = 'Conflict';
    else if (rpc.state !== 'open' && dirty.has(active)) saveState.textContent = '● Unsaved: offline, saved on reconnect';
    else if (b.saving) saveState.textContent = 'Saving…';
    else if (b.error) saveState.textContent = `Not saved: ${b.error}`;
    else saveState.textContent = dirty.has(active) ? '● Unsaved changes' : 'Saved';
    saveState.dataset.kind = b?.conflict || b?.error ? 'error' : dirty.has(active) ? 'dirty' : 'ok';
    // conflict bar
    if (b?.conflict) {
      replace(
        conflictBar,
        h('p', null, h('strong', null, 'Conflict: '), `${active} was changed elsewhere (now version ${b.conflict.version}) while you were editing it. Your changes are not saved yet.`),
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => compare(active) }, 'Compare'),
          h('button', { type: 'button', class: 'btn btn-small btn-primary', onclick: () => keepMine(active) }, 'Keep my version'),
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => takeTheirs(active) }, 'Use their version'),
        ),
      );
      conflictBar.hidden = false;
    } else conflictBar.hidden = true;
    tree?.set({ paths: [...files.keys()], folders, active, dirty });
  }

  function scheduleSave(path) {
    const b = buffers.get(path);
    if (!b || !canEdit) return;
    clearTimeout(b.timer);
    b.timer = setTimeout(() => save(path), AUTOSAVE_MS);
  }

  function saveNow() {
    const cb = active ? buffers.get(active)?.collab : null;
    if (cb) {
      // collab: edits are saved as they are made; Save keeps this text in the history
      cb.checkpoint().catch((e) => toastError(e, 'Save'));
      return;
    }
    if (active) {
      clearTimeout(buffers.get(active)?.timer);
      save(active, { explicit: true });
    }
  }

  async function save(path, { explicit = false } = {}) {
    const b = buffers.get(path);
    if (!b || !canEdit || b.collab) return; // collab: pushed live instead
    if (b.conflict) {
      if (explicit) toast('Resolve the conflict first: keep your version or use theirs.', 'error');
      return;
    }
    if (runSaving.has(path) || startPending) {
      b.timer = setTimeout(() => save(path), AUTOSAVE_MS);
      return;
    }
    if (b.saving) {
      b.again = true;
      return b.saving;
    }
    const content = docOf(path);
    if (content === b.saved) {
      if (explicit) toast(`${path} is saved.`);
      return;
    }
    b.saving = (async () => {
      try {
        const r = await rpc.call('file/save', { project: projectId, path, content, base_version: b.version });
        b.version = r.version;
        b.saved = content;
        b.error = null;
        files.set(path, { version: r.version, size: r.size });
      } catch (e) {
        if (e.reason === 'CONFLICT' && e.data && 'content' in e.data) {
          b.conflict = { version: e.data.version, content: e.data.content };
        } else if (e.reason === 'NOT_FOUND') {
          b.error = 'the file was deleted; copy your text elsewhere';
        } else {
          b.error = errorText(e);
          b.timer = setTimeout(() => save(path), 5000);
        }
      } finally {
        b.saving = null;
        refreshEditorUi();
        if (b.again) {
          b.again = false;
          if (!b.conflict && docOf(path) !== b.saved) save(path);
        }
      }
    })();
    refreshEditorUi();
    return b.saving;
  }

  function setDoc(path, content) {
    const b = buffers.get(path);
    if (path === active && view) {
      const sel = view.state.selection.main.head;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: content }, selection: { anchor: Math.min(sel, content.length) } });
      b.state = view.state;
    } else {
      b.state = stateFor(path, content);
    }
  }

  function keepMine(path) {
    const b = buffers.get(path);
    if (!b?.conflict) return;
    b.version = b.conflict.version;
    b.conflict = null;
    save(path, { explicit: true });
  }

  function takeTheirs(path) {
    const b = buffers.get(path);
    if (!b?.conflict) return;
    const { version, content } = b.conflict;
    b.conflict = null;
    b.saved = content;
    b.version = version;
    setDoc(path, content);
    refreshEditorUi();
  }

  async function compare(path) {
    const b = buffers.get(path);
    if (!b?.conflict) return;
    const mine = h('div', { class: 'compare-pane' });
    const theirs = h('div', { class: 'compare-pane' });
    const views = [];
    const p = modal({
      title: `Compare versions of ${path}`,
      wide: true,
      body: h('div', { class: 'compare' }, h('div', null, h('h3', null, 'Yours (not saved)'), mine), h('div', null, h('h3', null, `Theirs (version ${b.conflict.version})`), theirs)),
      actions: [
        { label: 'Close', value: null },
        { label: 'Use theirs', value: 'theirs' },
        { label: 'Keep mine', value: 'mine', kind: 'primary' },
      ],
    });
    views.push(readOnlyView(mine, docOf(path), path), readOnlyView(theirs, b.conflict.content, path));
    const v = await p;
    views.forEach((x) => x.destroy());
    if (v === 'mine') keepMine(path);
    else if (v === 'theirs') takeTheirs(path);
  }

  // ------------------------------------------------------- going back
  // Unsaved text is saved first, so that it too stays in the history.
  async function saveAllFirst(paths) {
    for (const p of paths) if (isDirty(p)) await save(p, { explicit: true });
    const stuck = paths.find((p) => buffers.get(p)?.conflict || isDirty(p));
    if (stuck) {
      toast(`${stuck} has changes that are not saved (${buffers.get(stuck)?.conflict ? 'a conflict' : 'offline?'}): resolve that first.`, 'error');
      return false;
    }
    return true;
  }

  async function fileHistory() {
    const path = active;
    if (!path || !buffers.has(path)) return;
    await showFileHistory({
      rpc,
      projectId,
      path,
      currentText: docOf(path),
      canEdit,
      restore: async (version, content) => {
        if (!(await saveAllFirst([path]))) throw new Error('Save or resolve your changes first.');
        const b = buffers.get(path);
        const r = await rpc.call('file/restore', { project: projectId, path, version, base_version: b.version });
        if (!r.unchanged) {
          b.version = r.version;
          b.saved = content;
          if (!b.collab) setDoc(path, content); // collab: collab/update brings it
          files.set(path, { version: r.version, size: r.size });
        }
        refreshEditorUi();
        toast(r.unchanged ? `${path} already has the text of version ${version}.` : `Restored version ${version} of ${path} (now version ${r.version}).`);
      },
    });
  }

  async function restoreRun(run) {
    await restoreRunCode({
      rpc,
      projectId,
      run,
      prepare: () => saveAllFirst([...buffers.keys()]),
      applied: async (r) => {
        for (const f of r.files) await onFileChanged({ ...f, project: projectId, by: me, quiet: true });
        refreshEditorUi();
      },
    });
  }

  // ----------------------------------------------------------- file tree
  const tree = new FileTree(treeHost, {
    onOpen: (p) => openFile(p),
    onRename: (n) => renameItem(n),
    onDelete: (n) => deleteItem(n),
    onSelect: () => {},
  });

  function toolBtn(label, text, fn) {
    return h('button', { type: 'button', class: 'btn btn-small btn-icon-only', 'aria-label': label, title: label, onclick: fn }, text);
  }

  function renderFileTools() {
    replace(
      fileTools,
      canEdit
        ? [
            toolBtn('New file', '+ File', () => newFile()),
            toolBtn('New folder', '+ Folder', () => newFolder()),
            toolBtn('Rename the selected file or folder (F2)', 'Rename', () => tree.selected && renameItem(tree.selected)),
            toolBtn('Delete the selected file or folder (Delete)', 'Delete', () => tree.selected && deleteItem(tree.selected)),
          ]
        : null,
    );
  }

  async function newFile() {
    const dir = tree.currentDir();
    const path = await promptDialog({ title: 'New file', label: 'Path', value: dir ? `${dir}/` : '', confirm: 'Create', validate: (v) => pathProblem(v.trim()) || (files.has(v.trim()) ? 'A file with this path exists.' : null), hint: 'Use “/” for folders, for example src/util.py.' });
    if (path == null) return;
    const p = path.trim();
    try {
      const r = await rpc.call('file/create', { project: projectId, path: p, content: '' });
      files.set(p, { version: r.version, size: 0 });
      for (const f of [...folders]) if (p.startsWith(`${f}/`)) folders.delete(f);
      await openFile(p);
    } catch (e) {
      toastError(e, 'New file');
    }
  }

  async function newFolder() {
    const dir = tree.currentDir();
    const path = await promptDialog({ title: 'New folder', label: 'Folder path', value: dir ? `${dir}/` : '', confirm: 'Create', validate: (v) => pathProblem(v.trim().replace(/\/+$/, '')), hint: 'An empty folder is kept in this page until a file is created in it.' });
    if (path == null) return;
    const p = path.trim().replace(/\/+$/, '');
    folders.add(p);
    tree.selected = { path: p, dir: true };
    refreshEditorUi();
  }

  function underDir(dir) {
    return [...files.keys()].filter((f) => f.startsWith(`${dir}/`));
  }

  async function renameFile(from, to) {
    if (isDirty(from)) await save(from);
    const r = await rpc.call('file/rename', { project: projectId, path: from, new_path: to });
    movedFile(from, to, r.version);
  }

  function movedFile(from, to, version) {
    const meta = files.get(from) || {};
    files.delete(from);
    files.set(to, { ...meta, version: version ?? meta.version });
    const b = buffers.get(from);
    if (b) {
      if (from === active && view) b.state = view.state;
      buffers.delete(from);
      const content = b.state.doc.toString();
      b.collab?.destroy(); // collab: a renamed file is edited alone until reopened
      const nb = { ...b, state: stateFor(to, content), timer: null, collab: null, saved: content };
      buffers.set(to, nb);
      tabs = tabs.map((t) => (t === from ? to : t));
      if (active === from) {
        active = to;
        view.setState(nb.state);
      }
    }
  }

  async function renameItem(node) {
    if (!canEdit) return;
    const what = node.dir ? 'folder' : 'file';
    const path = await promptDialog({ title: `Rename ${what}`, label: `New path of ${node.path}`, value: node.path, confirm: 'Rename', validate: (v) => pathProblem(v.trim()) || (!node.dir && v.trim() !== node.path && files.has(v.trim()) ? 'A file with this path exists.' : null) });
    if (path == null || path.trim() === node.path) return;
    const to = path.trim();
    try {
      if (!node.dir) {
        await renameFile(node.path, to);
        tree.selected = { path: to, dir: false };
      } else {
        for (const f of underDir(node.path)) await renameFile(f, `${to}${f.slice(node.path.length)}`);
        for (const f of [...folders]) {
          if (f === node.path || f.startsWith(`${node.path}/`)) {
            folders.delete(f);
            folders.add(`${to}${f.slice(node.path.length)}`);
          }
        }
        tree.selected = { path: to, dir: true };
      }
      toast(`Renamed to ${to}.`);
    } catch (e) {
      toastError(e, 'Rename');
    }
    refreshEditorUi();
  }

  function removedFile(path) {
    files.delete(path);
    const b = buffers.get(path);
    if (b) clearTimeout(b.timer);
    b?.collab?.destroy(); // collab
    buffers.delete(path);
    tabs = tabs.filter((t) => t !== path);
    if (active === path) {
      active = null;
      if (tabs.length) openFile(tabs[tabs.length - 1], { focus: false });
    }
  }

  async function deleteItem(node) {
    if (!canEdit) return;
    const inside = node.dir ? underDir(node.path) : [node.path];
    const ok = await confirmDialog({
      title: `Delete ${node.dir ? 'folder' : 'file'} “${node.path}”?`,
      message: node.dir ? (inside.length ? `Its ${inside.length} file${inside.length === 1 ? '' : 's'} will be deleted. This cannot be undone.` : 'The folder is empty.') : 'The file will be deleted. This cannot be undone.',
      confirm: 'Delete',
      danger: true,
    });
    if (!ok) return;
    try {
      for (const f of inside) {
        await rpc.call('file/delete', { project: projectId, path: f });
        removedFile(f);
      }
      if (node.dir) for (const f of [...folders]) if (f === node.path || f.startsWith(`${node.path}/`)) folders.delete(f);
      tree.selected = null;
      toast(`Deleted ${node.path}.`);
    } catch (e) {
      toastError(e, 'Delete');
    }
    refreshEditorUi();
  }

  // other sessions' file changes (and, quiet, those of a restore made here)
  async function onFileChanged(p) {
    if (p.project !== projectId) return;
    const by = typeof p.by === 'object' && p.by ? p.by.username : p.by === me.id ? 'you' : 'someone';
    const op = p.op === 'save' ? 'saved' : p.op;
    if (op === 'created') {
      files.set(p.path, { version: p.version, size: p.size || 0 });
      if (by !== 'you' && !p.quiet) toast(`${by} created ${p.path}.`);
    } else if (op === 'renamed' && p.new_path) {
      movedFile(p.path, p.new_path, p.version);
      toast(`${by} renamed ${p.path} to ${p.new_path}.`);
    } else if (op === 'deleted') {
      const wasOpen = buffers.has(p.path);
      if (wasOpen && isDirty(p.path)) {
        const b = buffers.get(p.path);
        b.error = `deleted by ${by}; copy your text elsewhere`;
        files.delete(p.path);
      } else removedFile(p.path);
      if (!p.quiet) toast(`${by} deleted ${p.path}.`);
    } else if (op === 'saved') {
      const meta = files.get(p.path) || {};
      files.set(p.path, { ...meta, version: Math.max(meta.version || 0, p.version) });
      const b = buffers.get(p.path);
      if (!b || b.collab || p.version <= b.version || runSaving.has(p.path)) { // collab: collab/update brings it
        refreshEditorUi();
        return;
      }
      try {
        const f = await rpc.call('file/read', { project: projectId, path: p.path });
        if (f.version <= b.version) return;
        if (!isDirty(p.path) && !b.saving) {
          b.version = f.version;
          b.saved = f.content;
          setDoc(p.path, f.content);
          if (!p.quiet) toast(`${by} saved ${p.path}; it has been reloaded.`);
        } else if (docOf(p.path) === f.content) {
          b.version = f.version;
          b.saved = f.content;
        } else {
          b.conflict = { version: f.version, content: f.content };
        }
      } catch {
        /* gone meanwhile */
      }
    }
    refreshEditorUi();
  }
  offs.push(
    rpc.on('file/changed', onFileChanged),
    rpc.on('project/changed', (p) => {
      if (p.project !== projectId || !project) return;
      if (p.op === 'deleted') {
        toast(`This project was deleted by ${p.by?.username || 'its owner'}.`, 'error', 10000);
        navigate('#/');
        return;
      }
      if (p.op === 'access_lost') {
        toast('This project is no longer visible to you.', 'error', 10000);
        root.className = '';
        replace(root, h('section', { class: 'page' }, h('h1', null, 'This project is not available any more'), h('p', null, 'Its owner made it private, or your access to it was removed.'), h('p', null, h('a', { href: '#/' }, signedIn ? 'Back to your projects' : 'Back to the front page'))));
        return;
      }
      if (p.name != null) project.name = p.name;
      if (p.is_public != null) project.is_public = p.is_public;
      if (p.public_runs != null) project.public_runs = p.public_runs;
      renderHead();
    }),
  );

  // ------------------------------------------------------------ presence
  const people = new Map(); // session -> {user, file} from presence/changed (when the server has it)
  let watchers = null;
  function renderPresence() {
    const items = [h('li', null, h('span', { class: 'avatar', 'aria-hidden': 'true' }, me.username[0].toUpperCase()), `${me.username} (you)`)];
    for (const [, v] of people) {
      const name = v.user?.username || v.username || (v.user && !v.user.id ? 'a visitor' : 'someone');
      items.push(h('li', null, h('span', { class: 'avatar avatar-other', 'aria-hidden': 'true' }, name[0].toUpperCase()), name, v.file ? h('span', { class: 'hint' }, ` · ${v.file}`) : null));
    }
    const others = watchers != null ? Math.max(0, watchers - 1 - people.size) : 0;
    if (others > 0) items.push(h('li', { class: 'presence-others' }, h('span', { class: 'avatar avatar-other', 'aria-hidden': 'true' }, `+${others}`), `${others} other ${others === 1 ? 'session has' : 'sessions have'} this project open`));
    replace(presenceList, items);
    presenceNote.textContent = people.size || others > 0 ? '' : 'Nobody else has this project open.';
  }
  offs.push(
    rpc.on('presence/changed', (p) => {
      if (p.project !== projectId || (p.session && p.session === rpc.hello?.session)) return;
      people.set(p.session ?? p.user?.id, p);
      renderPresence();
    }),
    rpc.on('presence/left', (p) => {
      if (p.project !== projectId) return;
      people.delete(p.session ?? p.user?.id);
      renderPresence();
    }),
  );

  async function pollPresence() {
    if (disposed || rpc.state !== 'open') return;
    try {
      const r = await rpc.call('project/open', { id: projectId });
      if (typeof r.watchers === 'number') {
        watchers = r.watchers;
        renderPresence();
      }
    } catch {
      /* next time */
    }
  }
  const presenceTimer = setInterval(pollPresence, PRESENCE_POLL_MS);

  // --------------------------------------------------------------- head
  function renderHead() {
    renderIdeHead({
      rpc,
      project,
      access,
      canEdit,
      canManage,
      signedIn,
      els: { titleEl, runtimeBadge, headActions, readOnlyNote, runBtn, stopBtn },
      paths: () => [...files.keys()],
      textOf: (p) => (buffers.has(p) ? docOf(p) : null),
    });
  }

  // ---------------------------------------------------------- shortcuts
  const offKeys = bindShortcuts({ run: () => run(), stop: () => stop(), save: () => saveNow() });

  function beforeUnload(e) {
    if (dirtySet().size) {
      for (const p of dirtySet()) save(p);
      e.preventDefault();
      e.returnValue = '';
    }
  }
  window.addEventListener('beforeunload', beforeUnload);

  // ------------------------------------------------------------- loading
  async function openProject() {
    const r = await rpc.call('project/open', { id: projectId });
    project = r;
    access = r.access;
    canEdit = ['owner', 'admin', 'editor'].includes(access);
    canManage = access === 'owner' || access === 'admin';
    watchers = r.watchers ?? null;
    files.clear();
    for (const f of r.files || []) files.set(f.path, { version: f.version, size: f.size });
    return r;
  }

  async function start() {
    try {
      await openProject();
    } catch (e) {
      replace(root, h('section', { class: 'page' }, h('h1', null, e.reason === 'NOT_FOUND' ? 'Project not found' : 'Cannot open the project'), h('p', null, e.reason === 'NOT_FOUND' ? 'It does not exist, or it is private.' : errorText(e)), h('p', null, h('a', { href: '#/' }, 'Back to your projects'))));
      root.className = '';
      return;
    }
    if (disposed) return;
    renderHead();
    renderFileTools();
    renderPresence();
    history = new HistoryPanel(panels.history.body, { rpc, project, onAttach: async (id) => { showPanel('console'); await attach(id); }, onRestore: canEdit ? (id) => restoreRun(id) : null });
    env = new EnvPanel(panels.env.body, { rpc, project, canEdit });
    faq = new FaqPanel(panels.faq.body, { rpc, project });
    if (access === 'public') {
      panels.history.tab.hidden = true;
      panels.env.tab.hidden = true;
    }
    const entry = project.runtime.entry && files.has(project.runtime.entry) ? project.runtime.entry : [...files.keys()][0];
    term.notice(canEdit ? `Press ▶ Run (${modKey}+Enter) to run ${project.runtime.entry || 'the project'}. Output appears here.` : access === 'public' ? 'Read-only: the output of the latest run appears here when the owner shares it.' : 'Runs of this project appear here.', '2');
    refreshEditorUi();
    if (entry) await openFile(entry, { focus: false });
    updateButtons();
    if (access !== 'public') await resumeRuns();
    else await showLatestRun();
  }

  // after a reconnect: back into the room, runs resumed from the last seq
  offs.push(
    rpc.onOpen(async ({ reconnected }) => {
      if (!reconnected || disposed || !project) return;
      for (const r of runs.values()) if (!r.exit) await attach(r.id, { quiet: true });
      try {
        await openProject();
      } catch {
        return;
      }
      await resumeRuns();
      for (const [p, b] of buffers) b.collab?.rejoin(projectId, p).catch(() => {}); // collab: what was missed
      for (const p of dirtySet()) scheduleSave(p);
      refreshEditorUi();
    }),
  );

  start();

  return () => {
    disposed = true;
    clearInterval(presenceTimer);
    runner.stopClock();
    offKeys();
    window.removeEventListener('beforeunload', beforeUnload);
    offs.forEach((off) => off());
    for (const p of dirtySet()) {
      const b = buffers.get(p);
      if (!b.conflict) rpc.call('file/save', { project: projectId, path: p, content: docOf(p), base_version: b.version }).catch(() => {});
    }
    for (const b of buffers.values()) clearTimeout(b.timer);
    for (const b of buffers.values()) b.collab?.destroy(); // collab
    rpc.call('project/close', { id: projectId }).catch(() => {});
    history?.destroy();
    term.dispose();
    view?.destroy();
    root.className = '';
  };
}
