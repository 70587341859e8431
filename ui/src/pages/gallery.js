// gallery.js - public projects: search, filter by language, view (read-only
// in the IDE) and fork.
import { h, replace, timeEl, errorText, debounce } from '../lib/dom.js';
import { app, navigate, runtimes } from '../app.js';
import { forkProject } from './projects.js';

export function mount(root) {
  const q = h('input', { id: 'g-q', type: 'search', placeholder: 'Search by name', autocomplete: 'off' });
  const lang = h('select', { id: 'g-lang' }, h('option', { value: '' }, 'All languages'));
  const list = h('div', { class: 'project-grid', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  let cursor = null;
  let seq = 0;

  runtimes()
    .then((rts) => {
      for (const l of [...new Set(rts.map((r) => r.language))].sort()) lang.appendChild(h('option', { value: l }, l));
    })
    .catch(() => {});

  async function load(append = false) {
    const my = ++seq;
    const params = { limit: 24 };
    if (q.value.trim()) params.q = q.value.trim();
    if (lang.value) params.language = lang.value;
    if (append && cursor) params.cursor = cursor;
    let r;
    try {
      r = await app.rpc.call('gallery/list', params);
    } catch (e) {
      if (my === seq) replace(list, h('p', { class: 'form-error' }, errorText(e)));
      return;
    }
    if (my !== seq) return;
    cursor = r.next_cursor;
    more.hidden = !cursor;
    const cards = r.projects.map(projectCard);
    if (append) list.append(...cards);
    else replace(list, cards.length ? cards : h('p', { class: 'empty' }, 'No public projects match.'));
  }

  const reload = debounce(() => load(false), 250);
  q.addEventListener('input', reload);
  lang.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));
  replace(
    root,
    h(
      'section',
      { class: 'page' },
      h('h1', null, 'Gallery'),
      h('p', { class: 'lead' }, 'Public projects. Open one to read its code, fork it to run and change it.'),
      h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); load(false); } }, h('div', { class: 'field' }, h('label', { for: 'g-q' }, 'Search'), q), h('div', { class: 'field' }, h('label', { for: 'g-lang' }, 'Language'), lang)),
      list,
      more,
    ),
  );
  load(false);
  return () => reload.cancel();
}

// One public project as a card: name, runtime, owner; View (read-only,
// without an account too) and Fork (asks to log in first when signed out).
export function projectCard(p) {
  const mine = app.user && p.owner?.id === app.user.id;
  const fork = async () => {
    if (!app.user) {
      navigate(`#/login?next=${encodeURIComponent(`#/p/${p.id}`)}`);
      return;
    }
    const f = await forkProject(p);
    if (f) navigate(`#/p/${f.id}`);
  };
  return h(
    'article',
    { class: 'card project-card', 'aria-labelledby': `g-${p.id}` },
    h('h2', { class: 'project-title', id: `g-${p.id}` }, h('a', { href: `#/p/${p.id}` }, p.name)),
    h('p', { class: 'project-meta' }, h('span', { class: 'badge' }, p.runtime?.name || p.runtime?.code), ' by ', h('strong', null, p.owner?.username || '?'), ' · ', timeEl(p.created_at)),
    p.description ? h('p', { class: 'project-desc' }, p.description) : null,
    h(
      'div',
      { class: 'project-actions' },
      h('span', { class: 'spacer' }),
      h('a', { class: 'btn btn-small', href: `#/p/${p.id}`, 'aria-label': `View ${p.name}` }, mine ? 'Open' : 'View'),
      h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Fork ${p.name}`, title: app.user ? null : 'Log in to fork', onclick: fork }, 'Fork'),
    ),
  );
}
