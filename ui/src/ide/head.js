// head.js - the IDE's head for one project: name, runtime, the owner's
// switches (Public, Share output), Rename, Fork (a visitor is asked to log
// in first), Download (the files as a .zip, ide/takeaway.js), and the
// read-only note that replaces Run and Stop for readers.
import { h, replace, toast, toastError } from '../lib/dom.js';
import { navigate } from '../app.js';
import { renameProject, forkProject, setPublic } from '../pages/projects.js';
import { downloadProject } from './takeaway.js';

// ctx: {rpc, project (kept up to date here), access, canEdit, canManage,
// signedIn, els: {titleEl, runtimeBadge, headActions, readOnlyNote, runBtn,
// stopBtn}, paths() (the project's files), textOf(path) (an open buffer's
// text, or null)}.
export function renderHead(ctx) {
  const { rpc, project, access, canEdit, canManage, signedIn } = ctx;
  const { titleEl, runtimeBadge, headActions, readOnlyNote, runBtn, stopBtn } = ctx.els;
  const projectId = project.id;
  titleEl.textContent = project.name;
  document.title = `${project.name} · run-it`;
  runtimeBadge.textContent = `${project.runtime.name}`;
  runtimeBadge.title = `${project.runtime.language} ${project.runtime.version}`;
  const pubId = 'ide-public';
  const items = [];
  if (canManage) {
    const sw = h('input', { type: 'checkbox', role: 'switch', id: pubId, checked: project.is_public });
    sw.addEventListener('change', async () => {
      const r = await setPublic(project, sw.checked);
      if (r) project.is_public = r.is_public;
      else sw.checked = !sw.checked;
    });
    items.push(h('label', { class: 'switch', for: pubId }, sw, h('span', null, 'Public')));
    const rs = h('input', { type: 'checkbox', role: 'switch', id: 'ide-public-runs', checked: !!project.public_runs });
    rs.addEventListener('change', async () => {
      try {
        const r = await rpc.call('project/update', { id: projectId, public_runs: rs.checked });
        project.public_runs = r.public_runs;
        toast(r.public_runs ? 'Visitors now see the output of the latest run.' : 'The output of runs is private again.');
      } catch (e) {
        rs.checked = !rs.checked;
        toastError(e, 'Share output');
      }
    });
    items.push(h('label', { class: 'switch', for: 'ide-public-runs', title: 'Visitors of the public project see the output of its latest run (never its environment variables, but a program may print them)' }, rs, h('span', null, 'Share output')));
    items.push(h('button', { type: 'button', class: 'btn btn-small', onclick: async () => { const r = await renameProject(project); if (r) { project.name = r.name; renderHead(ctx); } } }, 'Rename'));
  } else if (project.is_public) items.push(h('span', { class: 'badge' }, 'Public'));
  items.push(h('button', { type: 'button', class: 'btn btn-small', title: signedIn ? null : 'Log in to fork', onclick: () => forkOrLogin(ctx) }, 'Fork'));
  items.push(h('button', { type: 'button', class: 'btn btn-small', title: 'Download the project’s files as a .zip', onclick: () => downloadZip(ctx) }, 'Download'));
  replace(headActions, items);
  if (!canEdit) {
    const who = `${project.owner?.username || 'someone'}’s public project`;
    replace(readOnlyNote, h('strong', null, 'Read-only. '), access === 'viewer' ? 'You are a viewer of this project.' : signedIn ? `This is ${who}.` : `This is ${who}; you are not signed in.`, signedIn ? ' Fork it to change and run the code. ' : ' Log in or sign up to fork it, then change and run the code. ', h('button', { type: 'button', class: 'btn btn-small btn-primary', onclick: () => forkOrLogin(ctx) }, signedIn ? 'Fork' : 'Log in to fork'));
    readOnlyNote.hidden = false;
    runBtn.hidden = true;
    stopBtn.hidden = true;
  }
}

async function forkOrLogin({ project, signedIn }) {
  if (!signedIn) {
    toast('Log in or sign up to fork this project.');
    navigate(`#/login?next=${encodeURIComponent(`#/p/${project.id}`)}`);
    return;
  }
  const f = await forkProject(project);
  if (f) navigate(`#/p/${f.id}`);
}

async function downloadZip({ rpc, project, paths, textOf }) {
  try {
    const r = await downloadProject({ rpc, project, paths: paths(), textOf });
    toast(`Downloaded ${r.name} (${r.count} file${r.count === 1 ? '' : 's'}).`);
  } catch (e) {
    toastError(e, 'Download');
  }
}
