// job_overview.js — the job page's Overview tab: the DAG (dag.js) coloured by busy time and
// backpressure, a table of its vertices, and the subtasks of the selected vertex
// (GET /v1/jobs/<id>/vertices/<vid>). The selection lives in the URL (?vertex=<vid>).
// Watermarks are asked for once (GET .../watermarks); a 501 means the JobManager does not
// track event time yet, which the legend says.

import { paths } from './api.js';
import { DagView, chainName } from './dag.js';
import { Table, badgeCell, h, linkCell, meterCell, panel, setText } from './dom.js';
import * as fmt from './format.js';
import { load } from './status.js';

const share = (ms) => (fmt.isKnown(ms) ? ms / 1000 : null);
const ENDED = new Set(['finished', 'canceled', 'failed']);
// a metric that only means something while the vertex runs (rates, busy time)
const live = (v, key) => (v.metrics && !ENDED.has(v.state) ? v.metrics[key] : null);

function bpCell(level) {
  return (td, item) => {
    let el = td.firstChild;
    if (!el) { el = h('span'); td.append(el); }
    const l = level(item) || '—';
    setText(el, l);
    el.className = `bp-level bp-${l}`;
  };
}

export function overviewTab({ jobId, params }) {
  let selected = params.query && params.query.vertex !== undefined ? Number(params.query.vertex) : null;
  let lastJob = null;
  let watermarkNote = null; // null = not asked yet
  let watermarksById = null; // vertex id -> {watermark_ms} once GET .../watermarks answered

  const select = (vid) => {
    const next = selected === vid ? null : vid;
    location.hash = next === null ? `#/jobs/${jobId}/overview` : `#/jobs/${jobId}/overview?vertex=${next}`;
  };
  const dag = new DagView({ onSelect: select });

  const wmLegend = h('span', { class: 'legend-item muted', dataset: { testid: 'watermark-note' } });
  const legend = h('div', { class: 'legend' },
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-scale' }), 'idle → busy'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-swatch sw-bp' }), 'backpressured'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-swatch sw-low' }), 'backpressure low'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-line ln-hash' }), 'hash'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-line ln-forward' }), 'forward'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-line ln-rebalance' }), 'rebalance'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-line ln-broadcast' }), 'broadcast'),
    wmLegend);
  const dagPanel = panel('Job graph', 'panel-dag');
  dagPanel.tools.append(h('span', { class: 'muted', text: 'click a vertex for its subtasks' }));
  dagPanel.body.append(dag.el, legend);

  const vertices = new Table([
    { title: 'Vertex', render: linkCell((v) => chainName(v.name), (v) => `#/jobs/${jobId}/overview?vertex=${v.id}`), tip: (v) => v.name },
    { title: 'P', num: true, help: 'parallelism', text: (v) => fmt.int(v.parallelism) },
    { title: 'State', render: badgeCell((v) => v.state) },
    { title: 'Records in', num: true, text: (v) => fmt.int(v.metrics && v.metrics.records_in) },
    { title: 'Records out', num: true, text: (v) => fmt.int(v.metrics && v.metrics.records_out) },
    { title: 'In/s', num: true, text: (v) => fmt.rate(live(v, 'records_in_per_second')) },
    { title: 'Out/s', num: true, text: (v) => fmt.rate(live(v, 'records_out_per_second')) },
    { title: 'Bytes out/s', num: true, text: (v) => (fmt.isKnown(live(v, 'bytes_out_per_second')) ? `${fmt.bytes(live(v, 'bytes_out_per_second'))}/s` : '—') },
    { title: 'Busy', cls: 'cell-meter', help: 'busiest subtask', render: meterCell((v) => share(live(v, 'busy_ms_per_second')), (v) => fmt.perSecondShare(live(v, 'busy_ms_per_second')), 'meter-blue') },
    { title: 'Backpressured', cls: 'cell-meter', help: 'most backpressured subtask', render: meterCell((v) => share(live(v, 'backpressured_ms_per_second')), (v) => fmt.perSecondShare(live(v, 'backpressured_ms_per_second')), 'meter-orange') },
    { title: 'Level', render: bpCell((v) => (ENDED.has(v.state) ? null : v.backpressure)) },
  ], { key: (v) => v.id, onRow: (v) => select(v.id), rowClass: (v) => (v.id === selected ? 'selected' : ''), empty: 'No vertices' });
  const vertexPanel = panel('Vertices');
  vertexPanel.body.append(vertices.el);

  const subTitle = h('span');
  const subPanel = panel('Subtasks', 'panel-subtasks');
  subPanel.el.querySelector('h2').replaceChildren('Subtasks ', subTitle);
  const closeSub = h('a', { class: 'muted', text: 'close ×' });
  subPanel.tools.append(closeSub);
  const subtasks = new Table([
    { title: '#', num: true, text: (t) => String(t.subtask) },
    { title: 'State', render: badgeCell((t) => t.state) },
    { title: 'TaskManager', id: 'taskmanager', render: linkCell((t) => t.taskmanager || 'not placed', (t) => (t.taskmanager ? `#/taskmanagers/${t.taskmanager}` : null), 'mono') },
    { title: 'Records in', num: true, text: (t) => fmt.int(t.metrics && t.metrics.records_in) },
    { title: 'Records out', num: true, text: (t) => fmt.int(t.metrics && t.metrics.records_out) },
    { title: 'In/s', num: true, text: (t) => fmt.rate(t.metrics && t.metrics.records_in_per_second) },
    { title: 'Out/s', num: true, text: (t) => fmt.rate(t.metrics && t.metrics.records_out_per_second) },
    { title: 'Busy ms/s', num: true, text: (t) => fmt.int(t.metrics && t.metrics.busy_ms_per_second) },
    { title: 'Backpr. ms/s', num: true, text: (t) => fmt.int(t.metrics && t.metrics.backpressured_ms_per_second) },
    { title: 'Idle ms/s', num: true, text: (t) => fmt.int(t.metrics && t.metrics.idle_ms_per_second) },
    { title: 'Out pool', num: true, help: 'output buffer pool usage', text: (t) => fmt.percent(t.metrics && t.metrics.out_pool_usage) },
    { title: 'Level', render: bpCell((t) => t.backpressure) },
  ], { key: (t) => t.subtask, empty: 'No subtasks' });
  subPanel.body.append(subtasks.el);
  subPanel.el.hidden = true;
  closeSub.addEventListener('click', () => select(selected));

  const el = h('div', { class: 'tab-overview' }, dagPanel.el, subPanel.el, vertexPanel.el);

  async function loadWatermarks() {
    watermarkNote = 'asking';
    const { data, error } = await load(paths.watermarks(jobId), { inline: [404, 501] });
    if (error) {
      watermarkNote = error.status === 501 ? 'watermarks: not tracked by this JobManager yet' : 'watermarks: unavailable';
    } else {
      watermarkNote = 'watermarks: per vertex in the boxes';
      const byId = new Map(((data && data.vertices) || []).map((v) => [v.id, v]));
      if (lastJob) mergeWatermarks(lastJob, byId);
      watermarksById = byId;
    }
    setText(wmLegend, watermarkNote);
  }

  function mergeWatermarks(job, byId) {
    if (!byId) return;
    for (const v of job.vertices || []) {
      const w = byId.get(v.id);
      if (w && v.metrics && !Object.hasOwn(v.metrics, 'watermark_ms') && Object.hasOwn(w, 'watermark_ms')) v.metrics.watermark_ms = w.watermark_ms;
    }
  }

  function render(job) {
    lastJob = job;
    mergeWatermarks(job, watermarksById);
    dag.update(job, { selected });
    vertices.update(job.vertices || []);
    const v = (job.vertices || []).find((x) => x.id === selected);
    subPanel.el.hidden = !v;
    if (v) setText(subTitle, `of ${chainName(v.name)} (#${v.id})`);
  }

  return {
    el,
    render,
    async refresh(job) {
      const hasWm = (job.vertices || []).some((v) => v.metrics && Object.hasOwn(v.metrics, 'watermark_ms'));
      if (watermarkNote === null && !hasWm) loadWatermarks();
      render(job);
      if (selected !== null && (job.vertices || []).some((x) => x.id === selected)) {
        const { data } = await load(paths.vertex(jobId, selected));
        if (data && data.id === selected) subtasks.update(data.subtasks || []);
      }
    },
    setParams(p) {
      const next = p.query && p.query.vertex !== undefined ? Number(p.query.vertex) : null;
      if (next !== selected) {
        selected = next;
        subtasks.reset();
        if (lastJob) render(lastJob);
      }
    },
  };
}
