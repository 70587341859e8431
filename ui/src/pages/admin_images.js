// admin_images.js - the dashboard's "Runtime images" card: each image the
// runtimes name, whether the platform new runs go to has it ("image
// missing" when not), and for a missing one a Build button (images/build on
// the server, for runit/NAME:TAG) and a Pull button (from a registry). The
// state and the job's output lines arrive live as admin/event topic "image"
// (admin.js passes them in); the snapshot comes with admin/subscribe.
import { h, replace, toast, toastError } from '../lib/dom.js';

const BUILDABLE = /^runit\/[a-z][a-z0-9_-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const KEEP_LINES = 40;

export function imagesCard(rpc) {
  const list = h('ul', { class: 'image-list' });
  const section = h('section', { class: 'card', 'aria-labelledby': 'h-images', hidden: true }, h('h2', { id: 'h-images' }, 'Runtime images'), h('p', { class: 'hint' }, 'A runtime whose image is missing is shown to users as unavailable, and its runs are refused.'), list);
  let images = [];

  function find(image) {
    let it = images.find((x) => x.image === image);
    if (!it) {
      it = { image, state: 'unknown', job: null };
      images.push(it);
    }
    return it;
  }

  async function start(method, image) {
    try {
      await rpc.call(method, { image });
    } catch (e) {
      toastError(e);
    }
  }

  function render() {
    replace(
      list,
      images.length ? null : h('li', { class: 'empty' }, 'No runtime images yet.'),
      images.map((it) => {
        const missing = it.state === 'missing';
        const job = it.job;
        const label = missing ? 'image missing' : it.state === 'present' ? 'present' : 'not checked yet';
        return h(
          'li',
          { class: 'image-row', 'data-image': it.image, 'data-state': it.state },
          h('code', null, it.image),
          ' ',
          h('span', { class: `badge ${missing ? 'badge-bad' : it.state === 'present' ? 'badge-ok' : 'badge-warn'}` }, label),
          missing && !job && BUILDABLE.test(it.image) ? h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Build ${it.image}`, onclick: () => start('admin/image/build', it.image) }, 'Build') : null,
          missing && !job ? h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Pull ${it.image}`, onclick: () => start('admin/image/pull', it.image) }, 'Pull') : null,
          job ? h('span', { class: 'image-job', role: 'status' }, `${job.op === 'build' ? 'Building' : 'Pulling'}…`) : null,
          it.result ? h('span', { class: it.result.ok ? 'image-result' : 'image-result text-bad' }, it.result.ok ? ` ${it.result.op} done` : ` ${it.result.op} failed: ${it.result.error}`) : null,
          job && job.lines.length ? h('pre', { class: 'image-log', 'aria-label': `Output of the ${job.op} of ${it.image}` }, job.lines.join('\n')) : null,
        );
      }),
    );
  }

  return {
    section,
    // the admin/subscribe snapshot (absent on an older server: the card stays hidden)
    setSnapshot(snap) {
      if (!Array.isArray(snap)) return;
      images = snap.map((x) => ({ ...x, job: x.job ? { op: x.job.op, lines: [...(x.job.lines || [])] } : null }));
      section.hidden = false;
      render();
    },
    onEvent(ev) {
      const d = ev.data || {};
      if (ev.topic !== 'image' || !d.image) return;
      const it = find(d.image);
      if (ev.kind === 'present' || ev.kind === 'missing') it.state = ev.kind;
      else if (ev.kind === 'started') {
        it.job = { op: d.op, lines: [] };
        it.result = null;
      } else if (ev.kind === 'progress') {
        if (!it.job) it.job = { op: d.op, lines: [] };
        it.job.lines.push(d.line);
        if (it.job.lines.length > KEEP_LINES) it.job.lines.shift();
      } else if (ev.kind === 'done') {
        it.job = null;
        it.result = { ok: d.ok, op: d.op, error: d.error };
        if (d.ok) toast(`${d.image}: ${d.op} done.`);
        else toast(`${d.image}: ${d.op} failed: ${d.error}`, 'error');
      } else return;
      render();
    },
  };
}
