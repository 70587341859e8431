// takeaway.js - output people take away: a project as a .zip of its files
// (built here from file/read, no server endpoint), one run's log as a .txt
// (from run/logs), saved through a download link.
import { stripAnsi } from '../lib/dom.js';
import { exitText } from './runs.js';

// ---- a minimal ZIP writer (stored, no compression: source files are
// small; every unzip reads it). CRC-32 as in PKZIP / ISO 3309.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function dosTime(d) {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((Math.max(1980, d.getFullYear()) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

// entries: [{path, content (string)}] -> Blob of a .zip; names are UTF-8
// (general purpose flag bit 11).
export function zipBlob(entries, when = new Date()) {
  const enc = new TextEncoder();
  const { time, date } = dosTime(when);
  const parts = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.path);
    const data = enc.encode(e.content);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true);
    local.setUint16(8, 0, true);
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);
    parts.push(local, name, data);
    const cd = new DataView(new ArrayBuffer(46));
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, 0x0314, true); // made by Unix, 2.0
    cd.setUint16(6, 20, true);
    cd.setUint16(8, 0x0800, true);
    cd.setUint16(10, 0, true);
    cd.setUint16(12, time, true);
    cd.setUint16(14, date, true);
    cd.setUint32(16, crc, true);
    cd.setUint32(20, data.length, true);
    cd.setUint32(24, data.length, true);
    cd.setUint16(28, name.length, true);
    cd.setUint32(38, (0o100644 << 16) >>> 0, true); // a regular file, rw-r--r--
    cd.setUint32(42, offset, true);
    central.push(cd, name);
    offset += 30 + name.length + data.length;
  }
  const cdSize = central.reduce((n, p) => n + p.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end], { type: 'application/zip' });
}

// A file name from a project name: letters, digits, "-", "_", ".".
export function safeName(s, fallback = 'project') {
  const n = String(s || '')
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80);
  return n || fallback;
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// The project's files as they are in this page (unsaved edits included:
// what you see is what you get), the others read from the server, in one
// folder named after the project.
export async function downloadProject({ rpc, project, paths, textOf }) {
  const dir = `${safeName(project.name)}`;
  const entries = [];
  for (const path of [...paths].sort()) {
    let content = textOf(path);
    if (content == null) content = (await rpc.call('file/read', { project: project.id, path })).content;
    entries.push({ path: `${dir}/${path}`, content });
  }
  const name = `${dir}.zip`;
  saveBlob(zipBlob(entries), name);
  return { name, count: entries.length };
}

// One run's whole log as text: output (terminal line ends made plain), and
// the ending in brackets, as the History panel shows it.
export async function runLogText(rpc, run, { tty = false } = {}) {
  let from = 1;
  let out = '';
  for (let page = 0; page < 1000 && from; page++) {
    const r = await rpc.call('run/logs', { run, from, limit: 2000 });
    for (const c of r.chunks) out += chunkText(c, tty, out);
    from = r.next;
  }
  return out;
}

export function chunkText(c, tty, before = '') {
  if (c.stream === 'stdout' || c.stream === 'stderr') return stripAnsi(tty ? c.data.replace(/\r\n/g, '\n') : c.data);
  if (c.stream === 'meta') {
    try {
      return `${before && !before.endsWith('\n') ? '\n' : ''}[${exitText(JSON.parse(c.data))}]\n`;
    } catch {
      return '';
    }
  }
  return '';
}

export async function downloadRunLog(rpc, project, run, opts) {
  const text = await runLogText(rpc, run, opts);
  const name = `${safeName(project.name)}-run-${run}.log.txt`;
  saveBlob(new Blob([text], { type: 'text/plain;charset=utf-8' }), name);
  return name;
}
