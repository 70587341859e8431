// filetree.js - the project's files as an ARIA tree. Folders come from the
// paths ("src/util.py" makes "src"), plus empty folders made in this page.
// Keyboard: Up/Down move, Right/Left open/close a folder, Enter opens,
// F2 renames, Delete deletes, Home/End jump.
import { h, replace } from '../lib/dom.js';

// Why a path typed for a new or renamed file cannot be one, or null.
export function pathProblem(p) {
  if (!p) return 'Give a path.';
  if (p.startsWith('/')) return 'Paths are relative to the project: no leading “/”.';
  if (p.endsWith('/')) return 'Give a name after the last “/”.';
  if (p.length > 255) return 'Paths have at most 255 characters.';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(p)) return 'Paths cannot contain control characters or “\\”.';
  if (p.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'Paths cannot contain empty, “.” or “..” parts.';
  return null;
}

function buildTree(paths, folders) {
  const root = { name: '', path: '', dir: true, children: new Map() };
  const ensureDir = (parts) => {
    let node = root;
    let p = '';
    for (const part of parts) {
      p = p ? `${p}/${part}` : part;
      if (!node.children.has(part)) node.children.set(part, { name: part, path: p, dir: true, children: new Map() });
      node = node.children.get(part);
    }
    return node;
  };
  for (const f of folders) ensureDir(f.split('/'));
  for (const path of paths) {
    const parts = path.split('/');
    const name = parts.pop();
    ensureDir(parts).children.set(name, { name, path, dir: false });
  }
  return root;
}

// Icons that look like a sheet of paper and a folder (open: its flap
// lifted), drawn in SVG; they are decoration (aria-hidden).
const SVG = 'http://www.w3.org/2000/svg';
const ICONS = {
  file: ['M4 1.5h5.5L13 5v9.5H4z', 'M9.5 1.5V5H13', 'M6 8h5M6 10.5h5'],
  folder: ['M1.5 3.5h4.5l1.5 1.5h7v8.5h-13z'],
  'folder-open': ['M1.5 3.5h4.5l1.5 1.5h6v2', 'M1.5 13.5V3.5', 'M1.5 13.5l2.2-6h11.3l-2.2 6z'],
};

function icon(kind) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `tree-icon icon-${kind}`);
  for (const d of ICONS[kind]) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

function sorted(node) {
  return [...node.children.values()].sort((a, b) => (a.dir !== b.dir ? (a.dir ? -1 : 1) : a.name.localeCompare(b.name)));
}

export class FileTree {
  constructor(parent, handlers) {
    this.handlers = handlers; // onOpen, onSelect
    this.paths = [];
    this.folders = new Set();
    this.collapsed = new Set();
    this.selected = null; // {path, dir}
    this.active = null;
    this.dirty = new Set();
    this.el = h('ul', { class: 'tree', role: 'tree', 'aria-label': 'Files' });
    this.el.addEventListener('keydown', (e) => this.key(e));
    parent.appendChild(this.el);
  }

  set({ paths, folders, active, dirty }) {
    if (paths) this.paths = paths;
    if (folders) this.folders = folders;
    if (active !== undefined) this.active = active;
    if (dirty) this.dirty = dirty;
    if (this.selected && !this.exists(this.selected)) this.selected = null;
    if (!this.selected && this.active) this.selected = { path: this.active, dir: false };
    this.render();
  }

  exists(sel) {
    if (!sel.dir) return this.paths.includes(sel.path);
    return this.folders.has(sel.path) || this.paths.some((p) => p.startsWith(`${sel.path}/`));
  }

  // the folder new items go into: the selected folder, or the selected file's folder
  currentDir() {
    if (!this.selected) return '';
    if (this.selected.dir) return this.selected.path;
    const i = this.selected.path.lastIndexOf('/');
    return i < 0 ? '' : this.selected.path.slice(0, i);
  }

  render() {
    const had = this.el.contains(document.activeElement);
    const tree = buildTree(this.paths, this.folders);
    const items = [];
    const walk = (node, level, into) => {
      for (const c of sorted(node)) {
        const isSel = this.selected && this.selected.path === c.path && this.selected.dir === c.dir;
        const open = c.dir && !this.collapsed.has(c.path);
        const label = h(
          'span',
          { class: 'tree-label' },
          icon(c.dir ? (open ? 'folder-open' : 'folder') : 'file'),
          h('span', { class: 'tree-name' }, c.name),
          !c.dir && this.dirty.has(c.path) ? h('span', { class: 'dirty-dot', title: 'Unsaved changes' }, h('span', { class: 'visually-hidden' }, ' (unsaved)')) : null,
        );
        const li = h('li', {
          role: 'treeitem',
          class: `tree-item${c.dir ? ' tree-dir' : ''}${!c.dir && c.path === this.active ? ' tree-active' : ''}`,
          'aria-level': level,
          'aria-selected': isSel ? 'true' : 'false',
          'aria-expanded': c.dir ? String(open) : null,
          tabindex: '-1',
          dataset: { path: c.path, dir: c.dir ? '1' : '' },
          title: c.path,
        });
        label.style.paddingLeft = `${(level - 1) * 14 + 6}px`;
        li.appendChild(label);
        li.addEventListener('click', (e) => {
          e.stopPropagation();
          this.select(c, true);
        });
        into.appendChild(li);
        items.push(li);
        if (c.dir && open && c.children.size) {
          const group = h('ul', { role: 'group' });
          li.appendChild(group);
          walk(c, level + 1, group);
        }
      }
    };
    replace(this.el);
    walk(tree, 1, this.el);
    if (!items.length) this.el.appendChild(h('li', { class: 'tree-empty', role: 'none' }, 'No files'));
    const focusable = items.find((li) => li.getAttribute('aria-selected') === 'true') || items[0];
    if (focusable) focusable.tabIndex = 0;
    if (had && focusable) focusable.focus();
  }

  select(c, activate) {
    this.selected = { path: c.path, dir: c.dir };
    if (c.dir && activate) {
      if (this.collapsed.has(c.path)) this.collapsed.delete(c.path);
      else this.collapsed.add(c.path);
    }
    this.render();
    this.focusSelected();
    this.handlers.onSelect?.(this.selected);
    if (!c.dir && activate) this.handlers.onOpen(c.path);
  }

  focusSelected() {
    const li = this.visibleItems().find((x) => x.getAttribute('aria-selected') === 'true');
    li?.focus();
  }

  visibleItems() {
    return [...this.el.querySelectorAll('[role="treeitem"]')];
  }

  key(e) {
    const items = this.visibleItems();
    const cur = e.target.closest('[role="treeitem"]');
    const i = items.indexOf(cur);
    if (i < 0) return;
    const node = { path: cur.dataset.path, dir: cur.dataset.dir === '1' };
    const move = (j) => {
      const t = items[Math.max(0, Math.min(items.length - 1, j))];
      if (t) this.select({ path: t.dataset.path, dir: t.dataset.dir === '1' }, false);
    };
    switch (e.key) {
      case 'ArrowDown':
        move(i + 1);
        break;
      case 'ArrowUp':
        move(i - 1);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(items.length - 1);
        break;
      case 'ArrowRight':
        if (node.dir && this.collapsed.has(node.path)) {
          this.collapsed.delete(node.path);
          this.render();
        } else move(i + 1);
        break;
      case 'ArrowLeft':
        if (node.dir && !this.collapsed.has(node.path)) {
          this.collapsed.add(node.path);
          this.render();
        } else {
          const parent = node.path.includes('/') ? node.path.slice(0, node.path.lastIndexOf('/')) : null;
          if (parent) this.select({ path: parent, dir: true }, false);
        }
        break;
      case 'Enter':
      case ' ':
        this.select(node, true);
        break;
      case 'F2':
        this.selected = node;
        this.handlers.onRename?.(node);
        break;
      case 'Delete':
        this.selected = node;
        this.handlers.onDelete?.(node);
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}
