// view.js - the IDE page's elements: the head (name, actions, status with
// the elapsed time, Run, Stop), the read-only note, the side (file tree,
// people), the editor pane (tabs, save state, conflict bar, CodeMirror host)
// and the panel pane (Console, History, Env, FAQ tabs). Built once per
// page; pages/ide.js and ide/runner.js bring them to life.
import { h, modKey } from '../lib/dom.js';

export function buildIdeView() {
  const statusText = h('span', { class: 'run-status-text' }, 'Ready');
  const statusEl = h('div', { class: 'run-status', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true', dataset: { kind: 'idle' } }, h('span', { class: 'dot', 'aria-hidden': 'true' }), statusText);
  const elapsedEl = h('span', { class: 'run-elapsed', role: 'timer', 'aria-label': 'Time since Run' });
  // the live elapsed time sits beside the status, outside its live region
  // (a screen reader is not told every tenth of a second)
  const statusBox = h('div', { class: 'run-status-box' }, statusEl, elapsedEl);
  const runBtn = h('button', { type: 'button', class: 'btn btn-run', 'aria-label': `Run (${modKey}+Enter)`, title: `Run the project (${modKey}+Enter)`, 'aria-keyshortcuts': 'Control+Enter Meta+Enter' }, h('span', { class: 'btn-icon', 'aria-hidden': 'true' }, '▶'), ' Run');
  const stopBtn = h('button', { type: 'button', class: 'btn btn-stop', 'aria-label': `Stop (${modKey}+.)`, title: `Stop the run (${modKey}+.)`, 'aria-keyshortcuts': 'Control+Period Meta+Period', disabled: true }, h('span', { class: 'btn-icon', 'aria-hidden': 'true' }, '■'), ' Stop');
  const titleEl = h('h1', { class: 'ide-name' }, 'Loading…');
  const headActions = h('div', { class: 'ide-head-actions' });
  const runtimeBadge = h('span', { class: 'badge' });
  const readOnlyNote = h('div', { class: 'notice notice-info ide-readonly', hidden: true });

  const treeHost = h('div', { class: 'tree-host' });
  const fileTools = h('div', { class: 'file-tools', role: 'toolbar', 'aria-label': 'File actions' });
  const presenceList = h('ul', { class: 'presence-list', 'aria-live': 'polite' });
  const presenceNote = h('p', { class: 'hint presence-note' });
  const sideToggle = h('button', { type: 'button', class: 'btn btn-small side-toggle', 'aria-expanded': 'true', 'aria-controls': 'ide-side' }, 'Files');

  const tabBar = h('ul', { class: 'editor-tabs', 'aria-label': 'Open files' });
  const saveState = h('span', { class: 'save-state', role: 'status', 'aria-live': 'polite' });
  const fileHistBtn = h('button', { type: 'button', class: 'btn btn-small file-history-btn', hidden: true }, 'File history');
  const conflictBar = h('div', { class: 'conflict-bar', role: 'alert', hidden: true });
  const cmHost = h('div', { class: 'cm-host' });
  const editorEmpty = h('div', { class: 'editor-empty' }, h('p', null, 'Open a file from the tree.'));

  const consoleHost = h('div', { class: 'console-host' });
  const gapNotice = h('div', { class: 'notice notice-warn gap-notice', role: 'alert', hidden: true });
  const clearBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Clear the console' }, 'Clear');
  const copyBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Copy the console’s text' }, 'Copy');
  const maxBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false', 'aria-label': 'Maximise the console' }, 'Maximise');
  const consoleHint = h('span', { class: 'console-hint' }, 'Type here to send input to a running program.');

  const panelDefs = [
    { id: 'console', label: 'Console' },
    { id: 'history', label: 'History' },
    { id: 'env', label: 'Env' },
    { id: 'faq', label: 'FAQ' },
  ];
  const panelTabs = h('div', { class: 'panel-tabs', role: 'tablist', 'aria-label': 'Panels' });
  const panels = {};
  for (const p of panelDefs) {
    panels[p.id] = {
      tab: h('button', { type: 'button', role: 'tab', id: `tab-${p.id}`, 'aria-controls': `panel-${p.id}`, 'aria-selected': 'false', tabindex: '-1', class: 'panel-tab' }, p.label),
      body: h('div', { role: 'tabpanel', id: `panel-${p.id}`, 'aria-labelledby': `tab-${p.id}`, class: `panel-body panel-${p.id}`, hidden: true }),
    };
    panelTabs.appendChild(panels[p.id].tab);
  }
  panels.console.body.append(h('div', { class: 'console-bar' }, consoleHint, h('span', { class: 'spacer' }), copyBtn, clearBtn, maxBtn), gapNotice, consoleHost);

  const side = h('aside', { class: 'ide-side', id: 'ide-side', 'aria-label': 'Project files and people' },
    h('div', { class: 'side-head' }, h('h2', { class: 'side-h' }, 'Files'), fileTools),
    treeHost,
    h('section', { class: 'presence', 'aria-labelledby': 'presence-h' }, h('h2', { class: 'side-h', id: 'presence-h' }, 'Here now'), presenceList, presenceNote),
  );
  const editorPane = h('section', { class: 'ide-editor', 'aria-label': 'Editor' },
    h('div', { class: 'editor-head' }, tabBar, saveState, fileHistBtn),
    conflictBar,
    cmHost,
    editorEmpty,
  );
  const panelPane = h('section', { class: 'ide-panel', 'aria-label': 'Console and tools' }, panelTabs, ...panelDefs.map((p) => panels[p.id].body));

  const ideBody = h('div', { class: 'ide-body' }, side, editorPane, panelPane);
  const ide = h('div', { class: 'ide' },
    h('header', { class: 'ide-head' },
      h('div', { class: 'ide-title' }, sideToggle, titleEl, runtimeBadge, headActions),
      h('div', { class: 'run-controls' }, statusBox, runBtn, stopBtn),
    ),
    readOnlyNote,
    ideBody,
  );
  return { statusText, statusEl, elapsedEl, statusBox, runBtn, stopBtn, titleEl, headActions, runtimeBadge, readOnlyNote, treeHost, fileTools, presenceList, presenceNote, sideToggle, tabBar, saveState, fileHistBtn, conflictBar, cmHost, editorEmpty, consoleHost, gapNotice, clearBtn, copyBtn, maxBtn, consoleHint, panelDefs, panelTabs, panels, side, editorPane, panelPane, ideBody, ide };
}

// The panel tabs as an ARIA tablist: click, or arrows / Home / End on a
// tab. onShow(id) after a panel was shown. {show(id, focus), current()}.
export function panelSwitcher(panelDefs, panels, onShow) {
  let current = null;
  function show(id, focus = false) {
    current = id;
    for (const p of panelDefs) {
      const on = p.id === id;
      panels[p.id].tab.setAttribute('aria-selected', String(on));
      panels[p.id].tab.tabIndex = on ? 0 : -1;
      panels[p.id].body.hidden = !on;
    }
    if (focus) panels[id].tab.focus();
    onShow(id);
  }
  panelDefs.forEach((p, i) => {
    panels[p.id].tab.addEventListener('click', () => show(p.id));
    panels[p.id].tab.addEventListener('keydown', (e) => {
      const n = panelDefs.length;
      let j = null;
      if (e.key === 'ArrowRight') j = (i + 1) % n;
      else if (e.key === 'ArrowLeft') j = (i + n - 1) % n;
      else if (e.key === 'Home') j = 0;
      else if (e.key === 'End') j = n - 1;
      if (j != null) {
        e.preventDefault();
        show(panelDefs[j].id, true);
      }
    });
  });
  return { show, current: () => current };
}
