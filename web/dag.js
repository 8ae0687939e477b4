// dag.js — the job graph: layoutDag() places vertices left to right in layers by their
// longest path from a source (long edges get dummy points so they run between boxes,
// layers are ordered by barycenters to cut crossings); DagView draws it as inline SVG and,
// on every poll, updates texts and colours in place (it redraws only when the graph
// itself changes). Nodes carry data-vertex-id / data-backpressure / data-busy for tests.

import { s, setText, setAttr } from './dom.js';
import * as fmt from './format.js';

export const NODE_W = 232;
export const NODE_H = 116;
const DUMMY_H = 14;
const GAP_X = 132;
const GAP_Y = 28;
const PAD = 20;
const LABEL_H = 21; // vertical room of an edge label

// Pure layout (no DOM; tested with node). vertices: [{id}], edges: [{source, target}].
// Returns {nodes: Map id -> {id, layer, x, y, w, h}, edges: [{edge, points: [{x,y}...],
// label: {x,y}}], width, height, layers: [[id...]]}.
export function layoutDag(vertices, edges) {
  const ids = vertices.map((v) => v.id);
  const known = new Set(ids);
  const es = edges.filter((e) => known.has(e.source) && known.has(e.target) && e.source !== e.target);
  const succ = new Map(ids.map((id) => [id, []]));
  const pred = new Map(ids.map((id) => [id, []]));
  for (const e of es) { succ.get(e.source).push(e.target); pred.get(e.target).push(e.source); }

  // longest path from the sources (Kahn's order); a vertex on a cycle goes after the rest
  const layer = new Map();
  const indeg = new Map(ids.map((id) => [id, pred.get(id).length]));
  const queue = ids.filter((id) => indeg.get(id) === 0);
  for (const id of queue) layer.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i];
    for (const v of succ.get(u)) {
      layer.set(v, Math.max(layer.get(v) ?? 0, layer.get(u) + 1));
      indeg.set(v, indeg.get(v) - 1);
      if (indeg.get(v) === 0) queue.push(v);
    }
  }
  let maxLayer = Math.max(0, ...[...layer.values()]);
  for (const id of ids) if (!layer.has(id)) layer.set(id, ++maxLayer);

  // chains of dummy points for edges spanning more than one layer
  const items = new Map(); // key -> {key, layer, dummy, id}
  for (const id of ids) items.set(`v${id}`, { key: `v${id}`, id, layer: layer.get(id), dummy: false });
  const chains = es.map((e, i) => {
    const from = layer.get(e.source);
    const to = layer.get(e.target);
    const keys = [`v${e.source}`];
    if (to > from) {
      for (let l = from + 1; l < to; l++) {
        const key = `d${i}_${l}`;
        items.set(key, { key, layer: l, dummy: true });
        keys.push(key);
      }
    }
    keys.push(`v${e.target}`);
    return keys;
  });
  const up = new Map([...items.keys()].map((k) => [k, []]));
  const down = new Map([...items.keys()].map((k) => [k, []]));
  for (const keys of chains) {
    for (let j = 0; j + 1 < keys.length; j++) { down.get(keys[j]).push(keys[j + 1]); up.get(keys[j + 1]).push(keys[j]); }
  }

  const nLayers = Math.max(0, ...[...items.values()].map((it) => it.layer)) + 1;
  const layers = Array.from({ length: nLayers }, () => []);
  for (const it of items.values()) layers[it.layer].push(it.key);
  // start in id order (dummies after vertices), then barycenter sweeps
  const rank = (k) => (items.get(k).dummy ? 1e9 : items.get(k).id);
  for (const l of layers) l.sort((a, b) => (rank(a) - rank(b)) || (a < b ? -1 : 1));
  const pos = new Map();
  const index = () => layers.forEach((l) => l.forEach((k, i) => pos.set(k, i)));
  index();
  const sweep = (range, neighbours) => {
    for (const li of range) {
      const l = layers[li];
      const bary = new Map(l.map((k) => {
        const ns = neighbours.get(k);
        return [k, ns.length ? ns.reduce((a, n) => a + pos.get(n), 0) / ns.length : pos.get(k)];
      }));
      l.sort((a, b) => (bary.get(a) - bary.get(b)) || (pos.get(a) - pos.get(b)));
      l.forEach((k, i) => pos.set(k, i));
    }
  };
  const forward = [...Array(nLayers).keys()].slice(1);
  const backward = [...Array(nLayers).keys()].reverse().slice(1);
  for (let iter = 0; iter < 4; iter++) { sweep(forward, up); sweep(backward, down); }

  // coordinates: each layer a column, centred vertically
  const heightOf = (k) => (items.get(k).dummy ? DUMMY_H : NODE_H);
  const colHeight = layers.map((l) => l.reduce((a, k) => a + heightOf(k), 0) + Math.max(0, l.length - 1) * GAP_Y);
  const height = Math.max(NODE_H, ...colHeight) + 2 * PAD;
  const place = new Map();
  layers.forEach((l, li) => {
    let y = PAD + (height - 2 * PAD - colHeight[li]) / 2;
    const x = PAD + li * (NODE_W + GAP_X);
    for (const k of l) {
      place.set(k, { x, y, h: heightOf(k) });
      y += heightOf(k) + GAP_Y;
    }
  });
  const width = PAD * 2 + nLayers * NODE_W + (nLayers - 1) * GAP_X;

  const nodes = new Map();
  for (const id of ids) {
    const p = place.get(`v${id}`);
    nodes.set(id, { id, layer: layer.get(id), x: p.x, y: p.y, w: NODE_W, h: NODE_H });
  }

  // ports: edges leaving/entering a box are spread over its middle, ordered by the other end
  const outPorts = new Map();
  const inPorts = new Map();
  es.forEach((e, i) => {
    const keys = chains[i];
    const next = place.get(keys[1]);
    const prev = place.get(keys[keys.length - 2]);
    (outPorts.get(e.source) || outPorts.set(e.source, []).get(e.source)).push({ i, y: next.y + next.h / 2 });
    (inPorts.get(e.target) || inPorts.set(e.target, []).get(e.target)).push({ i, y: prev.y + prev.h / 2 });
  });
  const portY = (ports, i, node) => {
    const list = ports.sort((a, b) => a.y - b.y);
    const j = list.findIndex((p) => p.i === i);
    const step = Math.min(14, (NODE_H * 0.5) / Math.max(1, list.length));
    return node.y + NODE_H / 2 + (j - (list.length - 1) / 2) * step;
  };

  const outEdges = es.map((e, i) => {
    const keys = chains[i];
    const src = nodes.get(e.source);
    const dst = nodes.get(e.target);
    const points = [{ x: src.x + NODE_W, y: portY(outPorts.get(e.source), i, src) }];
    for (const k of keys.slice(1, -1)) {
      const p = place.get(k);
      points.push({ x: p.x, y: p.y + p.h / 2 }, { x: p.x + NODE_W, y: p.y + p.h / 2 });
    }
    points.push({ x: dst.x, y: portY(inPorts.get(e.target), i, dst) });
    // the label goes on the straight run through the first dummy slot of a long edge,
    // else halfway along the gap
    const [a, b] = points.length > 2 ? [points[1], points[2]] : [points[0], points[1]];
    return { edge: e, points, label: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
  });
  // labels in the same column must not overlap: push them apart vertically
  const columns = new Map();
  for (const e of outEdges) {
    const key = Math.round(e.label.x);
    (columns.get(key) || columns.set(key, []).get(key)).push(e.label);
  }
  for (const labels of columns.values()) {
    labels.sort((p, q) => p.y - q.y);
    for (let j = 1; j < labels.length; j++) labels[j].y = Math.max(labels[j].y, labels[j - 1].y + LABEL_H);
  }

  return { nodes, edges: outEdges, width, height, layers: layers.map((l) => l.filter((k) => !items.get(k).dummy).map((k) => items.get(k).id)) };
}

// SVG path through layout points: curves across gaps, straight lines through dummy slots.
export function edgePath(points) {
  let d = `M${r(points[0].x)},${r(points[0].y)}`;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (i % 2 === 0) { d += ` L${r(b.x)},${r(b.y)}`; continue; } // through a dummy slot
    const dx = Math.max(24, (b.x - a.x) * 0.5);
    d += ` C${r(a.x + dx)},${r(a.y)} ${r(b.x - dx)},${r(b.y)} ${r(b.x)},${r(b.y)}`;
  }
  return d;
}

const r = (v) => Math.round(v * 10) / 10;

// "hash(user)", "forward"; an edge reading a side output (late records) is prefixed by its name
export function edgeLabel(edge) {
  const p = edge.partitioning || 'forward';
  const how = p === 'hash' && Array.isArray(edge.keys) && edge.keys.length ? `hash(${edge.keys.join(', ')})` : p;
  return edge.side_output ? `${edge.side_output}: ${how}` : how;
}

// "gen -> big" reads as an operator chain
export function chainName(name) {
  return String(name ?? '').replaceAll(' -> ', ' → ');
}

// Busy ratio (0..1) -> fill colour on a dark-to-blue scale; backpressure shifts it to red.
export function nodeFill(busy, level, ended = false) {
  if (ended) return 'rgb(28,32,38)';
  const b = fmt.isKnown(busy) ? Math.max(0, Math.min(1, busy)) : 0;
  if (level === 'high') return mix([72, 28, 22], [120, 38, 24], b);
  return mix([24, 33, 45], [30, 86, 160], b);
}

function mix(a, b, t) {
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function truncate(text, maxChars) {
  return text.length > maxChars ? `${text.slice(0, Math.max(1, maxChars - 1))}…` : text;
}

const PARTITIONINGS = ['forward', 'hash', 'rebalance', 'broadcast'];
const ENDED = new Set(['finished', 'canceled', 'failed']);

// The SVG view. update(job, {selected, watermarks}) redraws only when vertices or edges
// changed; otherwise it rewrites the boxes' texts and colours.
export class DagView {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.signature = null;
    this.refs = new Map();
    this.el = document.createElement('div');
    this.el.className = 'dag';
  }

  update(job, { selected = null } = {}) {
    const vertices = job.vertices || [];
    const edges = job.edges || [];
    const sig = JSON.stringify([vertices.map((v) => [v.id, v.name, v.parallelism]), edges.map((e) => [e.source, e.target, e.partitioning, e.keys])]);
    if (sig !== this.signature) {
      this.signature = sig;
      this.build(vertices, edges);
    }
    for (const v of vertices) this.updateNode(v, selected);
  }

  build(vertices, edges) {
    const lay = layoutDag(vertices, edges);
    this.refs.clear();
    const defs = s('defs', {}, PARTITIONINGS.map((p) => s('marker', {
      id: `arrow-${p}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
    }, s('path', { d: 'M0,1 L9,5 L0,9 z', class: `arrow arrow-${p}` }))));
    const edgeLayer = s('g', { class: 'edges' });
    const labelLayer = s('g', { class: 'edge-labels' });
    for (const e of lay.edges) {
      const part = PARTITIONINGS.includes(e.edge.partitioning) ? e.edge.partitioning : 'forward';
      const text = edgeLabel(e.edge);
      edgeLayer.append(s('path', {
        d: edgePath(e.points), class: `edge edge-${part}`, 'marker-end': `url(#arrow-${part})`,
        'data-source': e.edge.source, 'data-target': e.edge.target,
      }, s('title', { text: `${e.edge.source} → ${e.edge.target}: ${text}` })));
      const shown = truncate(text, 20);
      const w = shown.length * 6.4 + 12;
      labelLayer.append(s('g', { class: `edge-label edge-label-${part}`, transform: `translate(${r(e.label.x)},${r(e.label.y)})` },
        s('title', { text }),
        s('rect', { x: -w / 2, y: -9, width: w, height: 18, rx: 9 }),
        s('text', { x: 0, y: 4, 'text-anchor': 'middle', text: shown })));
    }
    const nodeLayer = s('g', { class: 'nodes' });
    for (const v of vertices) {
      const n = lay.nodes.get(v.id);
      nodeLayer.append(this.buildNode(v, n));
    }
    const svg = s('svg', {
      class: 'dag-svg', xmlns: 'http://www.w3.org/2000/svg', width: lay.width, height: lay.height,
      viewBox: `0 0 ${lay.width} ${lay.height}`, role: 'img', 'aria-label': 'Job graph',
    }, defs, edgeLayer, labelLayer, nodeLayer);
    // shrink a wide graph to fit, but not below 80 % (then it scrolls)
    svg.style.minWidth = `${Math.round(lay.width * 0.8)}px`;
    this.el.replaceChildren(svg);
  }

  buildNode(v, n) {
    const name = chainName(v.name);
    const tip = s('title', {});
    const rect = s('rect', { class: 'node-box', width: n.w, height: n.h, rx: 8 });
    const nameT = s('text', { class: 'node-name', x: 12, y: 21 });
    const pill = s('g', { class: 'bp-pill', transform: `translate(${n.w - 10},9)` },
      s('rect', { x: -100, y: 0, width: 100, height: 16, rx: 8 }),
      s('text', { x: -50, y: 12, 'text-anchor': 'middle' }));
    const dot = s('circle', { class: 'state-dot', cx: 16, cy: 37, r: 4 });
    const stateT = s('text', { class: 'node-sub', x: 26, y: 41 });
    const inLabel = s('text', { class: 'node-k', x: 12, y: 63, text: 'in' });
    const inT = s('text', { class: 'node-v', x: 32, y: 63, 'data-metric': 'records_in_per_second' });
    const outLabel = s('text', { class: 'node-k', x: 120, y: 63, text: 'out' });
    const outT = s('text', { class: 'node-v', x: 146, y: 63, 'data-metric': 'records_out_per_second' });
    const busyT = s('text', { class: 'node-sub', x: 12, y: 82 });
    const wmT = s('text', { class: 'node-sub node-wm', x: 12, y: 100 });
    const barY = n.h - 7;
    const barW = n.w - 24;
    const busyBar = s('rect', { class: 'bar-busy', x: 12, y: barY, height: 3, width: 0, rx: 1.5 });
    const bpBar = s('rect', { class: 'bar-bp', x: 12, y: barY, height: 3, width: 0, rx: 1.5 });
    const g = s('g', {
      class: 'node', transform: `translate(${r(n.x)},${r(n.y)})`, tabindex: 0, role: 'button',
      'data-vertex-id': v.id, 'aria-label': `vertex ${name}`,
    }, tip, rect, s('rect', { class: 'bar-track', x: 12, y: barY, width: barW, height: 3, rx: 1.5 }), busyBar, bpBar,
    nameT, pill, dot, stateT, inLabel, inT, outLabel, outT, busyT, wmT);
    const select = () => this.onSelect && this.onSelect(v.id);
    g.addEventListener('click', select);
    g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(); } });
    this.refs.set(v.id, { g, tip, rect, nameT, name, pill, dot, stateT, inT, outT, busyT, wmT, busyBar, bpBar, barW });
    return g;
  }

  updateNode(v, selected) {
    const ref = this.refs.get(v.id);
    if (!ref) return;
    const m = v.metrics || {};
    const ended = ENDED.has(v.state);
    const level = ended ? 'ok' : v.backpressure || 'ok';
    const busy = !ended && fmt.isKnown(m.busy_ms_per_second) ? m.busy_ms_per_second / 1000 : null;
    const bp = !ended && fmt.isKnown(m.backpressured_ms_per_second) ? m.backpressured_ms_per_second / 1000 : null;
    setAttr(ref.g, 'data-backpressure', level);
    setAttr(ref.g, 'data-state', v.state || '');
    setAttr(ref.g, 'data-busy', busy === null ? '' : busy.toFixed(3));
    setAttr(ref.g, 'data-records-in-rate', !ended && fmt.isKnown(m.records_in_per_second) ? m.records_in_per_second : '');
    setAttr(ref.g, 'data-records-out-rate', !ended && fmt.isKnown(m.records_out_per_second) ? m.records_out_per_second : '');
    setAttr(ref.g, 'class', `node bp-${level}${ended ? ` ended ended-${v.state}` : ''}${selected === v.id ? ' selected' : ''}`);
    setAttr(ref.rect, 'fill', nodeFill(busy, level, ended));

    const pillText = level === 'high' ? 'BACKPRESSURED' : level === 'low' ? 'backpressure low' : '';
    ref.pill.style.display = pillText ? '' : 'none';
    setText(ref.pill.querySelector('text'), pillText);
    setText(ref.nameT, truncate(ref.name, pillText ? 13 : 29));

    setAttr(ref.dot, 'class', `state-dot state-${(v.state || 'unknown').replace(/[^a-z]/g, '')}`);
    const tasks = v.tasks || {};
    const running = tasks.running ?? 0;
    const counts = !ended && v.parallelism && running !== v.parallelism ? ` · ${running}/${v.parallelism} running` : '';
    setText(ref.stateT, `${v.state || 'unknown'}${counts} · P${v.parallelism ?? '?'} · #${v.id}`);
    // an ended vertex's rates are those of its last heartbeat: not shown
    // (its record totals instead)
    setText(ref.inT, ended ? fmt.compact(m.records_in) : fmt.rate(m.records_in_per_second));
    setText(ref.outT, ended ? fmt.compact(m.records_out) : fmt.rate(m.records_out_per_second));
    setText(ref.busyT, ended ? `${v.state}: records in/out in total` : `busy ${fmt.percent(busy)} · backpressured ${fmt.percent(bp)}`);
    let wm = 'no watermark';
    if (m.watermark_state === 'idle') wm = 'watermark: idle';
    else if (m.watermark_state === 'end') wm = 'watermark: end of input';
    else if (Object.hasOwn(m, 'watermark_ms')) wm = m.watermark_ms === null ? 'watermark —' : `watermark ${fmt.time(m.watermark_ms)}`;
    setText(ref.wmT, wm);
    setAttr(ref.busyBar, 'width', r(ref.barW * (busy ?? 0)));
    setAttr(ref.bpBar, 'x', r(12 + ref.barW * (1 - (bp ?? 0))));
    setAttr(ref.bpBar, 'width', r(ref.barW * (bp ?? 0)));
    setText(ref.tip, `${ref.name}\nstate ${v.state}, parallelism ${v.parallelism}\n` +
      `records in ${fmt.int(m.records_in)} (${fmt.rate(m.records_in_per_second)}), out ${fmt.int(m.records_out)} (${fmt.rate(m.records_out_per_second)})\n` +
      `busy ${fmt.percent(busy)}, backpressured ${fmt.percent(bp)} (${level}), idle ${fmt.perSecondShare(m.idle_ms_per_second)}\n` +
      'click for subtasks');
  }
}
