// editor.js - CodeMirror 6 set-up: one EditorView, one EditorState per open
// file, the language chosen from the file name.
import { EditorState, Compartment, Prec } from '@codemirror/state';
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
  dropCursor,
  rectangularSelection,
  crosshairCursor,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import {
  syntaxHighlighting,
  defaultHighlightStyle,
  HighlightStyle,
  indentOnInput,
  bracketMatching,
  foldGutter,
  foldKeymap,
  StreamLanguage,
  indentUnit,
} from '@codemirror/language';
import { searchKeymap, highlightSelectionMatches } from '@codemirror/search';
import { closeBrackets, closeBracketsKeymap, autocompletion, completionKeymap } from '@codemirror/autocomplete';
import { tags as t } from '@lezer/highlight';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';
import { cpp } from '@codemirror/lang-cpp';
import { java } from '@codemirror/lang-java';
import { go } from '@codemirror/legacy-modes/mode/go';
import { ruby } from '@codemirror/legacy-modes/mode/ruby';
import { shell } from '@codemirror/legacy-modes/mode/shell';

const langs = {
  python: () => python(),
  javascript: () => javascript(),
  typescript: () => javascript({ typescript: true }),
  jsx: () => javascript({ jsx: true }),
  json: () => javascript(),
  cpp: () => cpp(),
  java: () => java(),
  go: () => StreamLanguage.define(go),
  ruby: () => StreamLanguage.define(ruby),
  shell: () => StreamLanguage.define(shell),
};

const byExt = {
  py: 'python', pyw: 'python',
  js: 'javascript', mjs: 'javascript', cjs: 'javascript',
  ts: 'typescript', mts: 'typescript', tsx: 'typescript',
  jsx: 'jsx', json: 'json',
  c: 'cpp', h: 'cpp', cc: 'cpp', cpp: 'cpp', cxx: 'cpp', hpp: 'cpp', hh: 'cpp',
  java: 'java',
  go: 'go',
  rb: 'ruby', rake: 'ruby', gemspec: 'ruby',
  sh: 'shell', bash: 'shell', ash: 'shell',
};

export function languageName(path) {
  const base = path.split('/').pop();
  if (base === 'Makefile' || base === 'Dockerfile') return null;
  if (base === 'Gemfile' || base === 'Rakefile') return 'ruby';
  const ext = base.includes('.') ? base.split('.').pop().toLowerCase() : '';
  return byExt[ext] || null;
}

export function languageFor(path) {
  const n = languageName(path);
  return n ? langs[n]() : [];
}

// Colours chosen for at least 4.5:1 contrast on the editor background, in
// light and dark: CSS variables of app.css, so a theme change needs no
// reconfiguring of any editor.
const highlight = HighlightStyle.define([
  { tag: t.keyword, color: 'var(--hl-keyword)' },
  { tag: [t.name, t.deleted, t.character, t.macroName], color: 'var(--cm-text)' },
  { tag: [t.function(t.variableName), t.labelName], color: 'var(--hl-fn)' },
  { tag: [t.color, t.constant(t.name), t.standard(t.name)], color: 'var(--hl-const)' },
  { tag: [t.definition(t.name), t.separator], color: 'var(--cm-text)' },
  { tag: [t.typeName, t.className, t.number, t.changed, t.annotation, t.modifier, t.self, t.namespace], color: 'var(--hl-type)' },
  { tag: [t.operator, t.operatorKeyword, t.url, t.escape, t.regexp, t.link, t.special(t.string)], color: 'var(--hl-op)' },
  { tag: [t.meta, t.comment], color: 'var(--hl-comment)', fontStyle: 'italic' },
  { tag: t.strong, fontWeight: 'bold' },
  { tag: t.emphasis, fontStyle: 'italic' },
  { tag: t.strikethrough, textDecoration: 'line-through' },
  { tag: t.link, textDecoration: 'underline' },
  { tag: t.heading, fontWeight: 'bold', color: 'var(--hl-fn)' },
  { tag: [t.atom, t.bool, t.special(t.variableName)], color: 'var(--hl-const)' },
  { tag: [t.processingInstruction, t.string, t.inserted], color: 'var(--hl-string)' },
  { tag: t.invalid, color: 'var(--hl-invalid)' },
]);

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '14px', backgroundColor: 'var(--cm-bg)', color: 'var(--cm-text)' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5', overflow: 'auto' },
  '.cm-gutters': { backgroundColor: 'var(--cm-gutter-bg)', color: 'var(--cm-gutter-text)', borderRight: '1px solid var(--line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--cm-active-gutter)', color: 'var(--cm-text)' },
  '.cm-activeLine': { backgroundColor: 'var(--cm-active-line)' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '-2px' },
  '.cm-content': { caretColor: 'var(--cm-text)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--cm-text)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--cm-selection)' },
  '.cm-panels': { backgroundColor: 'var(--panel-2)', color: 'var(--text)' },
  '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--text)', border: '1px solid var(--line)' },
});

// extensions(path, {readOnly, keys, onChange, extra})
export function extensions(path, { readOnly = false, keys = [], onUpdate = null, extra = [] } = {}) {
  return [
    extra, // collab (issue 14): live co-editing and others' cursors (ide/collab.js)
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    syntaxHighlighting(highlight),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    closeBrackets(),
    autocompletion({ activateOnTyping: false }),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    indentUnit.of(languageName(path) === 'go' ? '\t' : '    '),
    EditorState.tabSize.of(4),
    Prec.highest(keymap.of(keys)),
    keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap, ...completionKeymap, indentWithTab]),
    languageFor(path),
    theme,
    EditorState.readOnly.of(readOnly),
    EditorView.contentAttributes.of({ 'aria-label': `Code editor: ${path}${readOnly ? ' (read-only)' : ''}` }),
    onUpdate ? EditorView.updateListener.of(onUpdate) : [],
  ];
}

export function makeState(doc, path, opts) {
  return EditorState.create({ doc, extensions: extensions(path, opts) });
}

export function makeView(parent, state) {
  return new EditorView({ state, parent });
}

// A read-only viewer (run history code).
export function readOnlyView(parent, doc, path) {
  return new EditorView({ state: makeState(doc, path, { readOnly: true }), parent });
}

export { EditorView, Compartment };
