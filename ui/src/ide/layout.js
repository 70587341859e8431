// layout.js - the IDE's shape, remembered in this browser: the widths of the
// file tree and of the console panel (each set by dragging a divider, or by
// the arrow keys on it: a focusable ARIA separator), and a console
// maximised over the editor. On a narrow screen the panes stack and the
// dividers step aside.
import { h } from '../lib/dom.js';

const KEY = 'runit.layout';
const SIDE = { min: 140, max: 480, def: 256 };
const PANEL = { min: 280, max: 1100, def: 520 };
const STEP = 16;

function load() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

function store(v) {
  try {
    localStorage.setItem(KEY, JSON.stringify(v));
  } catch {
    /* private mode */
  }
}

const clamp = (n, lo, hi) => Math.max(lo, Math.min(hi, Math.round(n)));

export const narrowQuery = window.matchMedia('(max-width: 1000px)');

// ide: the .ide element; body: .ide-body (grid) holding side, editor and
// panel; onChange() after a size changed (the console refits itself).
export class Layout {
  constructor({ ide, body, side, editor, panel, onChange = () => {} }) {
    this.ide = ide;
    this.body = body;
    this.onChange = onChange;
    const saved = load();
    this.side = clamp(saved.side ?? SIDE.def, SIDE.min, SIDE.max);
    this.panel = clamp(saved.panel ?? PANEL.def, PANEL.min, PANEL.max);
    this.max = !!saved.max;
    this.sideDiv = this.divider('Resize the file tree', 'ide-side', () => this.side, (v) => (this.side = v), SIDE, 1);
    this.panelDiv = this.divider('Resize the console', 'ide-panel-pane', () => this.panel, (v) => (this.panel = v), PANEL, -1);
    side.after(this.sideDiv);
    editor.after(this.panelDiv);
    panel.id = panel.id || 'ide-panel-pane';
    this.apply();
  }

  divider(label, controls, get, set, lim, dir) {
    const el = h('div', { class: 'divider', role: 'separator', tabindex: '0', 'aria-orientation': 'vertical', 'aria-label': label, 'aria-controls': controls, 'aria-valuemin': String(lim.min), 'aria-valuemax': String(lim.max), title: `${label} (drag, or arrow keys)` });
    el.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      el.setPointerCapture(e.pointerId);
      const x0 = e.clientX;
      const v0 = get();
      el.classList.add('dragging');
      document.body.classList.add('is-resizing');
      const move = (ev) => {
        set(clamp(v0 + dir * (ev.clientX - x0), lim.min, this.maxFor(lim)));
        this.apply(false);
      };
      const up = () => {
        el.releasePointerCapture(e.pointerId);
        el.removeEventListener('pointermove', move);
        el.removeEventListener('pointerup', up);
        el.removeEventListener('pointercancel', up);
        el.classList.remove('dragging');
        document.body.classList.remove('is-resizing');
        this.apply();
      };
      el.addEventListener('pointermove', move);
      el.addEventListener('pointerup', up);
      el.addEventListener('pointercancel', up);
    });
    el.addEventListener('keydown', (e) => {
      let v = null;
      if (e.key === 'ArrowLeft') v = get() - dir * STEP;
      else if (e.key === 'ArrowRight') v = get() + dir * STEP;
      else if (e.key === 'Home') v = lim.min;
      else if (e.key === 'End') v = lim.max;
      if (v == null) return;
      e.preventDefault();
      set(clamp(v, lim.min, this.maxFor(lim)));
      this.apply();
    });
    return el;
  }

  // never so wide that the editor has less than 200 px
  maxFor(lim) {
    const room = this.body.clientWidth - 200 - 12 - (lim === SIDE ? this.panel : this.side);
    return Math.max(lim.min, Math.min(lim.max, room));
  }

  apply(save = true) {
    this.body.style.setProperty('--side-w', `${this.side}px`);
    this.body.style.setProperty('--panel-w', `${this.panel}px`);
    this.sideDiv.setAttribute('aria-valuenow', String(this.side));
    this.panelDiv.setAttribute('aria-valuenow', String(this.panel));
    this.ide.classList.toggle('console-max', this.max);
    if (save) store({ side: this.side, panel: this.panel, max: this.max });
    this.onChange();
  }

  setMaximised(on) {
    this.max = !!on;
    this.apply();
  }

  // the console's Maximise / Restore button; onMax() after maximising
  bindMaxButton(btn, onMax) {
    const show = () => {
      btn.setAttribute('aria-pressed', String(this.max));
      btn.textContent = this.max ? 'Restore' : 'Maximise';
      btn.setAttribute('aria-label', this.max ? 'Restore the editor beside the console' : 'Maximise the console');
    };
    btn.addEventListener('click', () => {
      this.setMaximised(!this.max);
      show();
      if (this.max) onMax();
    });
    show();
  }

  get maximised() {
    return this.max;
  }

  dispose() {}
}
