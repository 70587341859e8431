// shortcuts.js - the IDE's keyboard shortcuts, listed where people look
// (the Help page and the IDE's FAQ panel).
import { h, modKey } from '../lib/dom.js';

export const SHORTCUTS = [
  [`${modKey}+Enter`, 'Run the project (again: replaces the running program)'],
  [`${modKey}+.`, 'Stop the run'],
  [`${modKey}+S`, 'Save now (files are also saved 0.8 s after you stop typing)'],
  ['Ctrl+C in the console', 'Interrupt the program (copies instead when text is selected)'],
  ['Ctrl+D in the console', 'End of input'],
  ['F2 / Delete in the file tree', 'Rename / delete the selected file or folder'],
  ['Arrow keys in the file tree', 'Move; Right and Left open and close folders'],
  ['Arrow keys on a divider', 'Make the file tree or the console wider or narrower'],
  [`${modKey}+F in the editor`, 'Find and replace'],
];

export function shortcutsTable() {
  return h(
    'table',
    { class: 'table shortcuts' },
    h('caption', { class: 'visually-hidden' }, 'Keyboard shortcuts'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Keys'), h('th', { scope: 'col' }, 'What they do'))),
    h('tbody', null, SHORTCUTS.map(([k, v]) => h('tr', null, h('td', null, h('kbd', null, k)), h('td', null, v)))),
  );
}

// The page's own shortcuts (the editor and the console have theirs too):
// Mod+Enter runs, Mod+. stops, Mod+S saves; not while a dialog is open.
// Returns a function that removes them.
export function bindShortcuts({ run, stop, save }) {
  function onKey(e) {
    if (e.defaultPrevented || document.querySelector('dialog[open]')) return;
    const mod = e.ctrlKey || e.metaKey;
    if (!mod || e.altKey) return;
    if (e.key === 'Enter') {
      e.preventDefault();
      run();
    } else if (e.key === '.') {
      e.preventDefault();
      stop();
    } else if (e.key === 's' || e.key === 'S') {
      e.preventDefault();
      save();
    }
  }
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}
