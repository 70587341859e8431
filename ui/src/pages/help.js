// help.js - help where people look for it: the keyboard shortcuts, the
// global FAQ and each language's FAQ (faq/get), for everyone, signed in or
// not. Linked from the top bar and the front door.
import { h, replace, errorText } from '../lib/dom.js';
import { runtimes } from '../app.js';
import { shortcutsTable } from '../ide/shortcuts.js';

function faqList(items) {
  return items.map((q) => h('details', { class: 'faq-item' }, h('summary', null, q.question), h('p', null, q.answer)));
}

export function mount(root, { query }) {
  const sel = h('select', { id: 'help-rt' }, h('option', { value: '' }, 'Choose a language'));
  const general = h('div', { class: 'faq' }, h('p', { class: 'hint' }, 'Loading…'));
  const perRuntime = h('div', { class: 'faq', 'aria-live': 'polite' });
  let gone = false;

  async function load(code) {
    try {
      const r = await window.runit.rpc.call('faq/get', code ? { runtime: code } : {});
      if (gone) return;
      replace(general, r.global?.length ? faqList(r.global) : h('p', { class: 'empty' }, 'No general questions answered yet.'));
      if (code) replace(perRuntime, r.runtime?.length ? faqList(r.runtime) : h('p', { class: 'empty' }, 'No questions answered for this language yet.'));
      else replace(perRuntime);
    } catch (e) {
      if (!gone) replace(general, h('p', { class: 'form-error' }, errorText(e)));
    }
  }

  runtimes()
    .then((rts) => {
      if (gone) return;
      for (const r of rts) sel.appendChild(h('option', { value: r.code }, `${r.name} (${r.language} ${r.version})`));
      const want = query?.get('runtime');
      if (want && rts.some((r) => r.code === want)) {
        sel.value = want;
        load(want);
      }
    })
    .catch(() => {});
  sel.addEventListener('change', () => load(sel.value));

  replace(
    root,
    h(
      'section',
      { class: 'page help' },
      h('h1', null, 'Help'),
      h('p', { class: 'lead' }, 'How run-it works, answers to common questions, and the keyboard shortcuts of the IDE.'),
      h('h2', { id: 'help-keys' }, 'Keyboard shortcuts'),
      shortcutsTable(),
      h('h2', null, 'Frequently asked questions'),
      general,
      h('h2', null, 'Questions about one language'),
      h('div', { class: 'field' }, h('label', { for: 'help-rt' }, 'Language'), sel),
      perRuntime,
    ),
  );
  load(query?.get('runtime') || '');
  return () => {
    gone = true;
  };
}
