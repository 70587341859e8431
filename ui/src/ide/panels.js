// panels.js - the side panels of the IDE: run history (code and log of past
// runs), environment variables and the FAQ.
import { h, replace, toast, timeEl, copyText, errorText, stripAnsi } from '../lib/dom.js';
import { readOnlyView } from './editor.js';
import { historyText, exitKind, exitText, firstOutputText, ACTIVE_STATES } from './runs.js';
import { downloadRunLog } from './takeaway.js';
import { shortcutsTable } from './shortcuts.js';

// ---------------------------------------------------------------- history

export class HistoryPanel {
  constructor(parent, { rpc, project, onAttach, onRestore = null }) {
    this.rpc = rpc;
    this.project = project;
    this.onAttach = onAttach;
    this.onRestore = onRestore; // run id -> restore the project to its code (versions.js)
    this.el = h('div', { class: 'history' });
    parent.appendChild(this.el);
    this.views = [];
    this.detailRun = null;
    this.runs = [];
  }

  async load() {
    if (this.detailRun) return; // the detail view stays until Back
    let r;
    try {
      r = await this.rpc.call('run/history', { project: this.project.id, limit: 50 });
    } catch (e) {
      replace(this.el, h('p', { class: 'panel-pad form-error' }, errorText(e)));
      return;
    }
    this.runs = r.runs || [];
    this.renderList();
  }

  renderList() {
    this.disposeViews();
    if (!this.runs.length) {
      replace(this.el, h('p', { class: 'panel-pad empty' }, 'No runs yet. Past runs appear here with their code and output.'));
      return;
    }
    const items = this.runs.map((run) => {
      const kind = run.state && run.state !== 'finished' ? 'busy' : exitKind(run);
      return h(
        'li',
        null,
        h(
          'button',
          { type: 'button', class: 'history-item', onclick: () => this.showRun(run) },
          h('span', { class: `dot dot-${kind}`, 'aria-hidden': 'true' }),
          h('span', { class: 'history-main' }, h('span', { class: 'history-title' }, `Run #${run.run}`), h('span', { class: 'history-outcome' }, historyText(run))),
          h('span', { class: 'history-meta' }, run.username || '', ' · ', timeEl(run.created_at)),
        ),
      );
    });
    replace(this.el, h('ul', { class: 'history-list', 'aria-label': 'Past runs, newest first' }, items));
  }

  disposeViews() {
    this.views.forEach((v) => v.destroy());
    this.views = [];
  }

  async showRun(summary) {
    this.detailRun = summary.run;
    this.disposeViews();
    const back = h('button', { type: 'button', class: 'btn btn-small', onclick: () => { this.detailRun = null; this.load(); } }, '← All runs');
    const codeBox = h('div', { class: 'history-code' }, h('p', null, 'Loading code…'));
    const logBox = h('pre', { class: 'history-log', tabindex: '0', 'aria-label': `Output of run ${summary.run}` });
    const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true }, 'Load more output');
    const live = summary.state && ACTIVE_STATES.has(summary.state);
    replace(
      this.el,
      h(
        'div',
        { class: 'history-detail' },
        h(
          'div',
          { class: 'row' },
          back,
          h('h3', { class: 'history-h' }, `Run #${summary.run}`),
          live ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.onAttach(summary.run) }, 'Show live in console') : null,
          live ? null : h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Download the log of run ${summary.run}`, onclick: (e) => this.downloadLog(summary, e.currentTarget) }, 'Download log'),
        ),
        h('p', { class: 'history-sum' }, `${summary.username || ''} · `, timeEl(summary.created_at), ` · ${historyText(summary)}`, firstOutputText(summary)),
        h('h4', null, 'Code'),
        codeBox,
        h('h4', null, 'Output'),
        logBox,
        more,
      ),
    );
    back.focus();
    // the code snapshot
    try {
      const r = await this.rpc.call('run/get', { run: summary.run });
      const paths = Object.keys(r.files || {}).sort();
      if (!paths.length) {
        replace(codeBox, h('p', { class: 'empty' }, 'No code was kept for this run.'));
      } else {
        // the runtime's entry file first, as the IDE opens it
        const entry = this.project.runtime?.entry;
        const first = paths.includes(entry) ? entry : paths[0];
        const sel = h('select', { id: `hr-file-${summary.run}`, 'aria-label': 'File of the run' }, paths.map((p) => h('option', { value: p, selected: p === first }, p)));
        sel.value = first;
        const host = h('div', { class: 'history-cm' });
        const copy = h('button', { type: 'button', class: 'btn btn-small', onclick: async () => toast((await copyText(r.files[sel.value])) ? `Copied ${sel.value}.` : 'Copy failed.') }, 'Copy code');
        const show = () => {
          this.disposeViews();
          replace(host);
          this.views.push(readOnlyView(host, r.files[sel.value], sel.value));
        };
        sel.addEventListener('change', show);
        const restore = this.onRestore ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.onRestore(summary.run) }, 'Restore this run’s code') : null;
        replace(codeBox, h('div', { class: 'row' }, paths.length > 1 ? sel : h('code', null, paths[0]), copy, restore), host);
        show();
      }
    } catch (e) {
      replace(codeBox, h('p', { class: 'form-error' }, errorText(e)));
    }
    // the log, page by page
    let from = 1;
    const page = async () => {
      more.disabled = true;
      try {
        const r = await this.rpc.call('run/logs', { run: summary.run, from, limit: 500 });
        for (const c of r.chunks) {
          if (c.stream === 'stdout' || c.stream === 'stderr') {
            // a terminal's \r\n line ends read as lines
            logBox.appendChild(h('span', { class: c.stream === 'stderr' ? 'log-err' : null }, stripAnsi(summary.tty ? c.data.replace(/\r\n/g, '\n') : c.data)));
          } else if (c.stream === 'meta') {
            // the run/exit, stored as JSON
            let x = null;
            try {
              x = JSON.parse(c.data);
            } catch {
              x = null;
            }
            if (x) logBox.appendChild(h('span', { class: 'log-meta' }, `${logBox.lastChild && !/\n$/.test(logBox.lastChild.textContent) ? '\n' : ''}[${exitText(x)}]\n`));
          }
          // 'status' chunks (queued, running, ...) are not output
        }
        if (!logBox.querySelector('span:not(.log-meta)') && !r.next) logBox.prepend(h('span', { class: 'log-none' }, '(no output)\n'));
        from = r.next;
        more.hidden = !r.next;
      } catch (e) {
        logBox.appendChild(h('span', { class: 'log-err' }, `[${errorText(e)}]`));
      } finally {
        more.disabled = false;
      }
    };
    more.addEventListener('click', page);
    page();
  }

  async downloadLog(summary, btn) {
    btn.disabled = true;
    try {
      const name = await downloadRunLog(this.rpc, this.project, summary.run, { tty: !!summary.tty });
      toast(`Downloaded ${name}.`);
    } catch (e) {
      toast(`Download: ${errorText(e)}`, 'error');
    } finally {
      btn.disabled = false;
    }
  }

  destroy() {
    this.disposeViews();
  }
}

// ------------------------------------------------------------------- env

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class EnvPanel {
  constructor(parent, { rpc, project, canEdit }) {
    this.rpc = rpc;
    this.project = project;
    this.canEdit = canEdit;
    this.el = h('div', { class: 'env panel-pad' });
    parent.appendChild(this.el);
    this.loaded = {};
    this.seq = 0;
  }

  async load() {
    try {
      const r = await this.rpc.call('env/get', { project: this.project.id });
      this.loaded = r.vars || {};
      this.render();
    } catch (e) {
      replace(this.el, h('p', { class: e.reason === 'FORBIDDEN' ? 'empty' : 'form-error' }, e.reason === 'FORBIDDEN' ? 'Only the owner and collaborators see this project’s environment variables.' : errorText(e)));
    }
  }

  row(name = '', value = '') {
    const n = ++this.seq;
    const nameIn = h('input', { type: 'text', class: 'env-name', value: name, id: `env-n-${n}`, 'aria-label': 'Variable name', placeholder: 'NAME', spellcheck: 'false', autocomplete: 'off', disabled: !this.canEdit });
    const valIn = h('input', { type: 'password', class: 'env-value', value, id: `env-v-${n}`, 'aria-label': `Value of ${name || 'the new variable'}`, placeholder: 'value', spellcheck: 'false', autocomplete: 'off', disabled: !this.canEdit });
    nameIn.addEventListener('input', () => valIn.setAttribute('aria-label', `Value of ${nameIn.value || 'the new variable'}`));
    const show = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false', 'aria-label': `Show the value of ${name || 'the new variable'}` }, 'Show');
    show.addEventListener('click', () => {
      const hidden = valIn.type === 'password';
      valIn.type = hidden ? 'text' : 'password';
      show.textContent = hidden ? 'Hide' : 'Show';
      show.setAttribute('aria-pressed', String(hidden));
    });
    const tr = h('tr', null, h('td', null, nameIn), h('td', null, valIn), h('td', { class: 'env-actions' }, show, this.canEdit ? h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Remove ${name || 'this variable'}`, onclick: () => tr.remove() }, 'Remove') : null));
    return tr;
  }

  render() {
    const body = h('tbody', null, Object.entries(this.loaded).map(([k, v]) => this.row(k, v)));
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const save = async () => {
      err.hidden = true;
      const now = {};
      for (const tr of body.querySelectorAll('tr')) {
        const k = tr.querySelector('.env-name').value.trim();
        const v = tr.querySelector('.env-value').value;
        if (!k && !v) continue;
        if (!ENV_NAME.test(k)) {
          err.textContent = `“${k}” is not a valid name: use letters, digits and “_”, not starting with a digit.`;
          err.hidden = false;
          return;
        }
        if (k in now) {
          err.textContent = `${k} is there twice.`;
          err.hidden = false;
          return;
        }
        now[k] = v;
      }
      const vars = {};
      for (const k of Object.keys(this.loaded)) if (!(k in now)) vars[k] = null;
      for (const [k, v] of Object.entries(now)) if (this.loaded[k] !== v) vars[k] = v;
      if (!Object.keys(vars).length) {
        toast('No changes to save.');
        return;
      }
      try {
        const r = await this.rpc.call('env/set', { project: this.project.id, vars });
        this.loaded = r.vars || {};
        this.render();
        toast('Environment variables saved; the next run gets them.');
      } catch (e) {
        err.textContent = errorText(e);
        err.hidden = false;
      }
    };
    replace(
      this.el,
      h('p', { class: 'hint' }, 'Set for every run of this project as environment variables. Values are never shown to visitors or copied into forks.'),
      h('table', { class: 'table env-table' }, h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), body),
      !Object.keys(this.loaded).length && !this.canEdit ? h('p', { class: 'empty' }, 'No variables.') : null,
      err,
      this.canEdit
        ? h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn', onclick: () => { const tr = this.row(); body.appendChild(tr); tr.querySelector('input').focus(); } }, '+ Add variable'), h('button', { type: 'button', class: 'btn btn-primary', onclick: save }, 'Save variables'))
        : null,
    );
  }

  destroy() {}
}

// ------------------------------------------------------------------- faq

export class FaqPanel {
  constructor(parent, { rpc, project }) {
    this.rpc = rpc;
    this.project = project;
    this.el = h('div', { class: 'faq panel-pad' });
    parent.appendChild(this.el);
  }

  async load() {
    try {
      const r = await this.rpc.call('faq/get', { runtime: this.project.runtime.code });
      const list = (items) => items.map((q) => h('details', { class: 'faq-item' }, h('summary', null, q.question), h('p', null, q.answer)));
      replace(
        this.el,
        r.runtime?.length ? [h('h3', null, `${this.project.runtime.name}`), list(r.runtime)] : null,
        r.global?.length ? [h('h3', null, 'General'), list(r.global)] : null,
        !r.runtime?.length && !r.global?.length ? h('p', { class: 'empty' }, 'No questions answered yet.') : null,
        h('h3', null, 'Keyboard shortcuts'),
        shortcutsTable(),
        h('p', null, h('a', { href: `#/help?runtime=${encodeURIComponent(this.project.runtime.code)}` }, 'All help and FAQ')),
      );
    } catch (e) {
      replace(this.el, h('p', { class: 'form-error' }, errorText(e)));
    }
  }

  destroy() {}
}

