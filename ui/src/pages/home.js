// home.js - the front door for a visitor who has not signed in: what run-it
// is, the languages it runs, the newest public projects (viewable without an
// account), Sign up / Log in, and where help is.
import { h, replace, errorText } from '../lib/dom.js';
import { app, runtimes } from '../app.js';
import { projectCard } from './gallery.js';

export function mount(root) {
  document.title = 'run-it · write and run code in your browser';
  const langs = h('ul', { class: 'home-langs', 'aria-label': 'Languages' });
  const gallery = h('div', { class: 'project-grid', 'aria-live': 'polite' }, h('p', { class: 'hint' }, 'Loading public projects…'));
  let gone = false;

  runtimes()
    .then((rts) => {
      if (gone) return;
      replace(langs, rts.map((r) => h('li', { class: 'badge' }, `${r.language} ${r.version}`)));
    })
    .catch(() => {});

  app.rpc
    .call('gallery/list', { limit: 6 })
    .then((r) => {
      if (gone) return;
      replace(gallery, r.projects.length ? r.projects.map(projectCard) : h('p', { class: 'empty' }, 'No public projects yet: be the first to share one.'));
    })
    .catch((e) => !gone && replace(gallery, h('p', { class: 'form-error' }, errorText(e))));

  replace(
    root,
    h(
      'div',
      { class: 'page home' },
      h(
        'section',
        { class: 'home-hero', 'aria-labelledby': 'home-h' },
        h('h1', { id: 'home-h' }, 'Write code. Press Run. Watch it run.'),
        h(
          'p',
          { class: 'lead' },
          'run-it is an IDE in your browser: projects with files and folders, a console that streams what your program prints and takes its input, a history of every run with its code and output. Each run gets a fresh locked-down container on the server; nothing to install.',
        ),
        langs,
        h(
          'div',
          { class: 'row home-actions' },
          h('a', { class: 'btn btn-primary', href: '#/signup' }, 'Sign up'),
          h('a', { class: 'btn', href: '#/login' }, 'Log in'),
          h('a', { class: 'btn', href: '#/gallery' }, 'Browse the gallery'),
          h('a', { class: 'btn', href: '#/help' }, 'Help and FAQ'),
        ),
        h('p', { class: 'hint' }, 'Public projects open read-only without an account; fork one to change and run it.'),
      ),
      h('section', { class: 'home-gallery', 'aria-labelledby': 'home-g' }, h('div', { class: 'row' }, h('h2', { id: 'home-g' }, 'New in the gallery'), h('span', { class: 'spacer' }), h('a', { href: '#/gallery' }, 'All public projects')), gallery),
    ),
  );
  return () => {
    gone = true;
  };
}
