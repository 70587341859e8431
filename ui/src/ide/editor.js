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

// Colours chosen for at least 4.5:1 contrast on the white editor background.
const highlight = HighlightStyle.define([
  { tag: t.keyword, color: '#7a1fa2' },
  { tag: [t.name, t.deleted, t.character, t.macroName], color: '#1b1f24' },
  { tag: [t.function(t.variableName), t.labelName], color: '#0550ae' },
  { tag: [t.color, t.constant(t.name), t.standard(t.name)], color: '#0a5c8a' },
  { tag: [t.definition(t.name), t.separator], color: '#1b1f24' },
  { tag: [t.typeName, t.className, t.number, t.changed, t.annotation, t.modifier, t.self, t.namespace], color: '#8a4600' },
  { tag: [t.operator, t.operatorKeyword, t.url, t.escape, t.regexp, t.link, t.special(t.string)], color: '#a0310f' },
  { tag: [t.meta, t.comment], color: '#5c6570', fontStyle: 'italic' },
  { tag: t.strong, fontWeight: 'bold' },
  { tag: t.emphasis, fontStyle: 'italic' },
  { tag: t.strikethrough, textDecoration: 'line-through' },
  { tag: t.link, textDecoration: 'underline' },
  { tag: t.heading, fontWeight: 'bold', color: '#0550ae' },
  { tag: [t.atom, t.bool, t.special(t.variableName)], color: '#0a5c8a' },
  { tag: [t.processingInstruction, t.string, t.inserted], color: '#116329' },
  { tag: t.invalid, color: '#b3261e' },
]);

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '14px', backgroundColor: '#ffffff' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
  '.cm-gutters': { backgroundColor: '#f5f7f9', color: '#5c6570', borderRight: '1px solid #d5dbe1' },
  '.cm-activeLineGutter': { backgroundColor: '#e6ebf0', color: '#1b1f24' },
  '.cm-activeLine': { backgroundColor: '#f3f6fa' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '-2px' },
  '.cm-content': { caretColor: '#1b1f24' },
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
