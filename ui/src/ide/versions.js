// versions.js - going back: a file's history (its kept versions, each shown
// side by side with the current text in CodeMirror's merge view, and
// "Restore this version") and restoring a project to the code of a past run
// (a confirmation that lists the files added, changed and removed). The
// server does the work (file/history, file/read with a version,
// file/restore, project/restore); the IDE page says how its buffers follow.
import { EditorState } from '@codemirror/state';
import { EditorView, lineNumbers } from '@codemirror/view';
import { syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { MergeView } from '@codemirror/merge';
import { h, replace, modal, timeEl, fmtBytes, errorText, toast } from '../lib/dom.js';
import { languageFor } from './editor.js';

const PAGE = 50;

function sideExtensions(path, label) {
  return [
    lineNumbers(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    languageFor(path),
    EditorState.readOnly.of(true),
    EditorView.editable.of(false),
    EditorView.contentAttributes.of({ 'aria-label': label }),
  ];
}

// The history dialog of one file. currentText: the editor's text now (it
// may hold unsaved changes: they are saved before a restore). restore(version,
// content) does the restore and throws to keep the dialog open with the
// error. Resolves when the dialog closes.
export async function showFileHistory({ rpc, projectId, path, currentText, canEdit, restore }) {
  let selected = null; // {version, content, current}
  let merge = null;
  let next = null;
  const list = h('ol', { class: 'versions-list', 'aria-label': `Versions of ${path}, newest first` });
  const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true }, 'Older versions');
  const caption = h('p', { class: 'versions-caption', 'aria-live': 'polite' }, 'Loading the history…');
  const diffHost = h('div', { class: 'versions-diff' });
  const kept = h('p', { class: 'hint versions-kept' });

  const dispose = () => {
    merge?.destroy();
    merge = null;
  };

  async function select(v, btn) {
    for (const b of list.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === btn));
    caption.textContent = `Loading version ${v.version}…`;
    let r;
    try {
      r = await rpc.call('file/read', { project: projectId, path, version: v.version });
    } catch (e) {
      caption.textContent = errorText(e);
      return;
    }
    selected = { version: v.version, content: r.content, current: v.current };
    dispose();
    replace(diffHost);
    merge = new MergeView({
      a: { doc: r.content, extensions: sideExtensions(path, `${path}, version ${v.version}`) },
      b: { doc: currentText, extensions: sideExtensions(path, `${path}, the current text`) },
      parent: diffHost,
      gutter: true,
      highlightChanges: true,
    });
    const same = r.content === currentText;
    caption.textContent = `Left: version ${v.version}${v.current ? ' (the saved current version)' : ''}. Right: the current text.${same ? ' They are the same.' : ''}`;
    if (restoreBtn) restoreBtn.disabled = !canEdit || same;
  }

  function row(v) {
    const who = v.by?.username || 'a deleted user';
    const btn = h(
      'button',
      { type: 'button', class: 'versions-item', 'aria-pressed': 'false', dataset: { version: String(v.version) } },
      h('span', { class: 'versions-v' }, `Version ${v.version}`, v.current ? h('span', { class: 'badge' }, 'current') : null),
      h('span', { class: 'versions-meta' }, who, ' · ', timeEl(v.saved_at), ' · ', fmtBytes(v.size)),
    );
    btn.addEventListener('click', () => select(v, btn));
    return h('li', null, btn);
  }

  async function page() {
    more.disabled = true;
    try {
      const r = await rpc.call('file/history', { project: projectId, path, limit: PAGE, ...(next ? { before: next } : {}) });
      const first = !list.children.length;
      for (const v of r.versions) list.appendChild(row(v));
      next = r.next;
      more.hidden = !next;
      kept.textContent = `Besides the current version, the last ${r.kept} are kept, each for ${Math.round(r.max_age_s / 86400)} days after it was replaced.`;
      if (first) {
        // show the newest earlier version against the current text
        const idx = r.versions.findIndex((v) => !v.current);
        const btns = list.querySelectorAll('button');
        if (idx >= 0) await select(r.versions[idx], btns[idx]);
        else if (r.versions.length) {
          await select(r.versions[0], btns[0]);
          caption.textContent = 'This file has no earlier version yet.';
        }
      }
    } catch (e) {
      caption.textContent = errorText(e);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', page);

  const body = h(
    'div',
    { class: 'versions' },
    h('div', { class: 'versions-side' }, list, more, kept),
    h('div', { class: 'versions-main' }, caption, diffHost),
  );
  const actions = [{ label: 'Close', value: null }];
  if (canEdit) actions.push({ label: 'Restore this version', value: 'restore', kind: 'primary' });
  const done = modal({
    title: `History of ${path}`,
    wide: true,
    body,
    actions,
    onSubmit: async (value) => {
      if (value !== 'restore' || !selected) return true;
      await restore(selected.version, selected.content);
      return true;
    },
  });
  // the dialog is in the page now: find its restore button
  const restoreBtn = canEdit ? [...document.querySelectorAll('dialog[open] button')].find((b) => b.dataset.action === 'restore') : null;
  if (restoreBtn) restoreBtn.disabled = true;
  page();
  const v = await done;
  dispose();
  return v;
}

// Restore the project to the code of run `run`: ask the server what would
// change, confirm with the user, restore. prepare() runs first (the page
// saves its unsaved buffers) and may return false to stop. applied(result)
// runs after the restore. Resolves to the result, or null.
export async function restoreRunCode({ rpc, projectId, run, prepare, applied }) {
  if (prepare && (await prepare()) === false) return null;
  let plan;
  try {
    plan = await rpc.call('project/restore', { project: projectId, run, preview: true });
  } catch (e) {
    toast(`Cannot restore run #${run}'s code: ${errorText(e)}`, 'error');
    return null;
  }
  if (!plan.added.length && !plan.changed.length && !plan.removed.length) {
    toast(`The project already has the code of run #${run}.`);
    return null;
  }
  const summary = h('div', { class: 'restore-plan' });
  const render = () => {
    const group = (title, cls, paths, note) =>
      paths.length
        ? h('section', { class: `restore-group ${cls}` }, h('h3', null, `${title} (${paths.length})`), h('p', { class: 'hint' }, note), h('ul', null, paths.map((p) => h('li', null, h('code', null, p)))))
        : null;
    replace(
      summary,
      h('p', null, `The project's files become those of run #${run}. Each change is a new version: what is there now stays in the files' history.`),
      group('Files added', 'restore-added', plan.added, 'The run had them; the project does not now.'),
      group('Files changed', 'restore-changed', plan.changed, 'Saved as a new version with the run’s content.'),
      group('Files removed', 'restore-removed', plan.removed, 'The run did not have them. They are deleted, with their history.'),
      plan.unchanged ? h('p', { class: 'hint' }, `${plan.unchanged} ${plan.unchanged === 1 ? 'file is' : 'files are'} the same and stay as they are.`) : null,
    );
  };
  render();
  let result = null;
  const v = await modal({
    title: `Restore the code of run #${run}?`,
    wide: true,
    body: summary,
    actions: [
      { label: 'Cancel', value: null },
      { label: 'Restore this run’s code', value: 'restore', kind: 'primary' },
    ],
    onSubmit: async () => {
      try {
        result = await rpc.call('project/restore', { project: projectId, run, base_versions: plan.base_versions });
      } catch (e) {
        if (e.reason !== 'CONFLICT') throw e;
        // the project changed while the user looked: show the new plan
        plan = await rpc.call('project/restore', { project: projectId, run, preview: true });
        render();
        throw new Error('The project changed meanwhile: the lists above are up to date now. Restore again to go ahead.');
      }
      return true;
    },
  });
  if (v !== 'restore' || !result) return null;
  await applied?.(result);
  toast(`Restored the code of run #${run}: ${result.added.length} added, ${result.changed.length} changed, ${result.removed.length} removed.`);
  return result;
}
