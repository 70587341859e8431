// projects.js - the user's projects: list, create from a runtime, rename,
// public/private, fork and delete (with confirmation).
import { h, replace, toast, toastError, timeEl, modal, promptDialog, confirmDialog, errorText } from '../lib/dom.js';
import { app, navigate, runtimes } from '../app.js';

export function validateName(v) {
  const s = v.trim();
  if (!s) return 'Give the project a name.';
  if ([...s].length > 100) return 'Names have at most 100 characters.';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return 'Names cannot contain control characters.';
  return null;
}

// The runtime picker: one radio card per runtime with name, version, OS,
// arch and description. A runtime that cannot run here (available: false,
// its image is missing) is shown disabled, with the server's reason.
export function runtimePicker(list, name = 'runtime', selected) {
  const group = h('div', { class: 'runtime-picker', role: 'radiogroup', 'aria-label': 'Runtime' });
  const usable = (rt) => rt.available !== false;
  const first = list.find(usable)?.code;
  list.forEach((rt) => {
    const id = `${name}-${rt.code}`;
    const off = !usable(rt);
    // the radio is named by the runtime's name and described by the rest
    const input = h('input', { type: 'radio', name, id, value: rt.code, checked: !off && (selected ? rt.code === selected : rt.code === first), disabled: off, required: true, 'aria-labelledby': `${id}-name`, 'aria-describedby': `${id}-meta ${id}-desc${off ? ` ${id}-why` : ''}` });
    group.appendChild(
      h(
        'label',
        { class: off ? 'runtime-card runtime-unavailable' : 'runtime-card', for: id, title: off ? rt.message || 'Not available' : null },
        input,
        h(
          'span',
          { class: 'runtime-card-body' },
          h('span', { class: 'runtime-name', id: `${id}-name` }, rt.name),
          h('span', { class: 'runtime-meta', id: `${id}-meta` }, h('span', null, `version ${rt.version}`), h('span', null, `OS ${rt.os}`), h('span', null, `arch ${rt.arch}`), rt.network_allowed ? h('span', null, 'network') : null),
          h('span', { class: 'runtime-desc', id: `${id}-desc` }, rt.description || ''),
          off ? h('span', { class: 'runtime-why', id: `${id}-why`, 'data-reason': rt.reason || '' }, `Unavailable: ${rt.message || rt.reason || 'cannot run here now'}`) : null,
        ),
      ),
    );
  });
  return group;
}

export async function createProjectDialog() {
  let list;
  try {
    list = await runtimes(true);
  } catch (e) {
    toastError(e, 'Cannot load the runtimes');
    return null;
  }
  if (!list.length) {
    toast('No runtime is enabled yet: ask an admin.', 'error');
    return null;
  }
  const nameIn = h('input', { id: 'np-name', type: 'text', required: true, maxlength: 100, autofocus: true, autocomplete: 'off', placeholder: 'My project' });
  const pub = h('input', { id: 'np-public', type: 'checkbox' });
  let created = null;
  await modal({
    title: 'New project',
    wide: true,
    body: [
      h('div', { class: 'field' }, h('label', { for: 'np-name' }, 'Name'), nameIn),
      h('fieldset', { class: 'field' }, h('legend', null, 'Runtime'), runtimePicker(list, 'np-runtime')),
      h('div', { class: 'field field-check' }, pub, h('label', { for: 'np-public' }, 'Public: anyone can see it in the gallery and fork it')),
    ],
    actions: [
      { label: 'Cancel', value: null },
      { label: 'Create project', value: 'create', kind: 'primary' },
    ],
    onSubmit: async (_, form) => {
      const why = validateName(nameIn.value);
      if (why) throw new Error(why);
      const runtime = form.querySelector('input[name="np-runtime"]:checked')?.value;
      if (!runtime) throw new Error('Choose a runtime.');
      created = await app.rpc.call('project/create', { name: nameIn.value.trim(), runtime, is_public: pub.checked });
    },
  });
  return created;
}

export async function renameProject(p) {
  const name = await promptDialog({ title: 'Rename project', label: 'New name', value: p.name, confirm: 'Rename', validate: validateName });
  if (name == null || name.trim() === p.name) return null;
  try {
    const r = await app.rpc.call('project/update', { id: p.id, name: name.trim() });
    toast('Project renamed.');
    return r;
  } catch (e) {
    toastError(e, 'Rename');
    return null;
  }
}

export async function deleteProject(p) {
  const ok = await confirmDialog({ title: `Delete “${p.name}”?`, message: 'Its files, environment variables and run history are deleted for good. This cannot be undone.', confirm: 'Delete project', danger: true });
  if (!ok) return false;
  try {
    await app.rpc.call('project/delete', { id: p.id });
    toast(`Deleted “${p.name}”.`);
    return true;
  } catch (e) {
    toastError(e, 'Delete');
    return false;
  }
}

export async function forkProject(p) {
  const name = await promptDialog({ title: `Fork “${p.name}”`, label: 'Name of your copy', value: `${p.name} (fork)`.slice(0, 100), confirm: 'Fork', validate: validateName });
  if (name == null) return null;
  try {
    const r = await app.rpc.call('project/fork', { id: p.id, name: name.trim() });
    toast(`Forked into “${r.name}”.`);
    return r;
  } catch (e) {
    toastError(e, 'Fork');
    return null;
  }
}

export async function setPublic(p, isPublic) {
  try {
    const r = await app.rpc.call('project/update', { id: p.id, is_public: isPublic });
    toast(isPublic ? 'The project is public: it is listed in the gallery.' : 'The project is private.');
    return r;
  } catch (e) {
    toastError(e, 'Visibility');
    return null;
  }
}

export function mount(root) {
  const listBox = h('div', { class: 'project-grid', 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', null, 'Loading…'));
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary', onclick: async () => {
    const p = await createProjectDialog();
    if (p) navigate(`#/p/${p.id}`);
  } }, '+ New project');

  async function load() {
    let r;
    try {
      r = await app.rpc.call('project/list');
    } catch (e) {
      replace(listBox, h('p', { class: 'form-error' }, errorText(e)));
      return;
    }
    listBox.setAttribute('aria-busy', 'false');
    if (!r.projects.length) {
      replace(listBox, h('div', { class: 'empty' }, h('p', null, 'No projects yet.'), h('p', null, 'Create one from a runtime, or fork something from the ', h('a', { href: '#/gallery' }, 'gallery'), '.')));
      return;
    }
    replace(listBox, r.projects.map(card));
  }

  function card(p) {
    const manage = p.access === 'owner' || p.access === 'admin';
    const toggleId = `pub-${p.id}`;
    const toggle = h('input', { type: 'checkbox', role: 'switch', id: toggleId, checked: p.is_public, disabled: !manage });
    toggle.addEventListener('change', async () => {
      const r = await setPublic(p, toggle.checked);
      if (!r) toggle.checked = !toggle.checked;
      else p.is_public = r.is_public;
    });
    return h(
      'article',
      { class: 'card project-card', 'aria-labelledby': `pc-${p.id}` },
      h('h2', { class: 'project-title', id: `pc-${p.id}` }, h('a', { href: `#/p/${p.id}` }, p.name)),
      h(
        'p',
        { class: 'project-meta' },
        h('span', { class: 'badge' }, p.runtime?.name || p.runtime?.code),
        p.access !== 'owner' ? h('span', { class: 'badge' }, p.access) : null,
        ' updated ',
        timeEl(p.updated_at),
      ),
      p.description ? h('p', { class: 'project-desc' }, p.description) : null,
      h(
        'div',
        { class: 'project-actions' },
        h('label', { class: 'switch', for: toggleId }, toggle, h('span', null, 'Public')),
        h('span', { class: 'spacer' }),
        manage ? h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Rename ${p.name}`, onclick: async () => { if (await renameProject(p)) load(); } }, 'Rename') : null,
        h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Fork ${p.name}`, onclick: async () => { const f = await forkProject(p); if (f) load(); } }, 'Fork'),
        manage ? h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${p.name}`, onclick: async () => { if (await deleteProject(p)) load(); } }, 'Delete') : null,
      ),
    );
  }

  replace(root, h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', null, 'Your projects'), newBtn), listBox));
  load();
  return null;
}
