// unit_test.mjs — tests of the dashboard's pure modules (no browser): the DAG layout,
// number/byte/duration formatting and the hash router.
// Run: node --test tests/web/unit_test.mjs   (needs no npm install)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NODE_H, NODE_W, edgeLabel, edgePath, layoutDag } from '../../web/dag.js';
import * as fmt from '../../web/format.js';
import { parseRoute } from '../../web/route.js';

const ids = (n) => Array.from({ length: n }, (_, id) => ({ id }));
const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

test('layers follow the longest path from the sources', () => {
  // 0 -> 1 -> 2 -> 3 and a shortcut 0 -> 3: vertex 3 stays in layer 3
  const lay = layoutDag(ids(4), [{ source: 0, target: 1 }, { source: 1, target: 2 }, { source: 2, target: 3 }, { source: 0, target: 3 }]);
  assert.deepEqual([0, 1, 2, 3].map((id) => lay.nodes.get(id).layer), [0, 1, 2, 3]);
  const xs = [0, 1, 2, 3].map((id) => lay.nodes.get(id).x);
  assert.ok(xs[0] < xs[1] && xs[1] < xs[2] && xs[2] < xs[3], `left to right: ${xs}`);
  // the long edge runs through two dummy slots (4 extra points) and starts/ends at the boxes
  const long = lay.edges.find((e) => e.edge.source === 0 && e.edge.target === 3);
  assert.equal(long.points.length, 6);
  assert.equal(long.points[0].x, lay.nodes.get(0).x + NODE_W);
  assert.equal(long.points.at(-1).x, lay.nodes.get(3).x);
  assert.match(edgePath(long.points), /^M[\d.]+,[\d.]+ C.* L.* C.* L.* C/);
});

test('boxes never overlap and the graph fits its width and height', () => {
  const edges = [[0, 2], [1, 2], [0, 3], [2, 4], [3, 4], [0, 5], [5, 6], [1, 6], [6, 4]].map(([source, target]) => ({ source, target }));
  const lay = layoutDag(ids(7), edges);
  const boxes = [...lay.nodes.values()];
  for (const a of boxes) {
    assert.equal(a.w, NODE_W);
    assert.equal(a.h, NODE_H);
    assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.w <= lay.width && a.y + a.h <= lay.height, `vertex ${a.id} inside`);
    for (const b of boxes) if (a !== b) assert.ok(!overlaps(a, b), `vertices ${a.id} and ${b.id} overlap`);
  }
  assert.deepEqual(lay.layers.flat().sort(), [0, 1, 2, 3, 4, 5, 6]);
});

test('edge labels in one gap do not overlap', () => {
  const edges = [1, 2, 3, 4].map((target) => ({ source: 0, target, partitioning: 'hash', keys: ['k'] }));
  const lay = layoutDag(ids(5), edges);
  const ys = lay.edges.map((e) => e.label.y).sort((a, b) => a - b);
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i] - ys[i - 1] >= 20, `labels ${ys}`);
});

test('a single vertex, a cycle and edges to unknown vertices do not break the layout', () => {
  assert.equal(layoutDag(ids(1), []).nodes.size, 1);
  const cyc = layoutDag(ids(3), [{ source: 0, target: 1 }, { source: 1, target: 2 }, { source: 2, target: 1 }, { source: 0, target: 9 }]);
  assert.equal(cyc.nodes.size, 3);
  assert.equal(cyc.edges.length, 3);
});

test('edge labels name the partitioning and the hash keys', () => {
  assert.equal(edgeLabel({ partitioning: 'hash', keys: ['card', 'country'] }), 'hash(card, country)');
  assert.equal(edgeLabel({ partitioning: 'forward', keys: [] }), 'forward');
  assert.equal(edgeLabel({}), 'forward');
  assert.equal(edgeLabel({ partitioning: 'forward', keys: [], side_output: 'late' }), 'late: forward');
});

test('formatting', () => {
  assert.equal(fmt.rate(null), '—');
  assert.equal(fmt.rate(20051), '20.1k/s');
  assert.equal(fmt.rate(0), '0/s');
  assert.equal(fmt.rate(0.5), '0.5/s');
  assert.equal(fmt.compact(1_234_567), '1.23M');
  assert.equal(fmt.int(1234567), '1,234,567');
  assert.equal(fmt.bytes(48234496), '46.0 MiB');
  assert.equal(fmt.bytes(512), '512 B');
  assert.equal(fmt.duration(45), '45 ms');
  assert.equal(fmt.duration(12345), '12.3 s');
  assert.equal(fmt.duration(185000), '3m 05s');
  assert.equal(fmt.duration(7_384_000), '2h 03m');
  assert.equal(fmt.percent(0.425), '43%');
  assert.equal(fmt.perSecondShare(530.5), '53%');
  assert.equal(fmt.shortId('31c3a4363154cac093188c4a84dfdeae'), '31c3a436');
});

test('routes', () => {
  assert.deepEqual(parseRoute(''), { page: 'overview', query: {}, redirect: true });
  assert.equal(parseRoute('#/jobs').page, 'jobs');
  assert.deepEqual(parseRoute('#/jobs/abc'), { page: 'job', id: 'abc', tab: 'overview', query: {} });
  assert.deepEqual(parseRoute('#/jobs/abc/checkpoints?vertex=1'), { page: 'job', id: 'abc', tab: 'checkpoints', query: { vertex: '1' } });
  assert.deepEqual(parseRoute('#/taskmanagers/tm-1'), { page: 'taskmanager', id: 'tm-1', query: {} });
  assert.equal(parseRoute('#/nope/a/b/c').page, 'notfound');
  assert.equal(parseRoute('#/jobs/%E0%A4%A').page, 'notfound');
});
