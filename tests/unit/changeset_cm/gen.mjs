// gen.mjs - random ChangeSets made and applied by CodeMirror itself
// (@codemirror/state from ui/node_modules), as JSON lines {doc, changes,
// result}, for cm_check.c: the C applier must give CodeMirror's result.
// Documents mix ASCII, line breaks, two- and three-byte UTF-8 and astral
// characters (two UTF-16 units).
import { createRequire } from 'node:module';
import path from 'node:path';

const ui = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../ui/package.json');
const { ChangeSet, Text } = createRequire(ui)('@codemirror/state');
const pieces = ['a', 'b', '\n', 'é', '€', '😀', '🎉x', ' '];
let seed = 42;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const out = [];
for (let i = 0; i < 3000; i++) {
  let doc = '';
  const n = rnd(20);
  for (let k = 0; k < n; k++) doc += pieces[rnd(pieces.length)];
  // random changes at character boundaries (not inside surrogate pairs)
  const bounds = [0];
  for (let k = 0; k < doc.length; k++) { const c = doc.charCodeAt(k); if (c < 0xdc00 || c > 0xdfff) bounds.push(k); }
  bounds.push(doc.length);
  const uniq = [...new Set(bounds)].sort((x, y) => x - y);
  const specs = [];
  let pos = 0;
  const m = rnd(4);
  for (let k = 0; k < m; k++) {
    const cand = uniq.filter((b) => b >= pos);
    if (!cand.length) break;
    const from = cand[rnd(cand.length)];
    const cand2 = uniq.filter((b) => b >= from);
    const to = cand2[rnd(Math.min(3, cand2.length))];
    let ins = '';
    for (let q = rnd(3); q > 0; q--) ins += pieces[rnd(pieces.length)];
    specs.push({ from, to, insert: ins });
    pos = to + 1;
  }
  const cs = ChangeSet.of(specs, doc.length, '\n');
  const res = cs.apply(Text.of(doc.split('\n'))).toString();
  out.push(JSON.stringify({ doc, changes: cs.toJSON(), result: res }));
}
console.log(out.join('\n'));
