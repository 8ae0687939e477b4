// job_checkpoints.js — the job page's Checkpoints tab (GET /v1/jobs/<id>/checkpoints):
// counts, configuration, the latest completed checkpoint, bar charts of the recent
// durations and sizes, and the history (newest first). A job without checkpointing gets
// an empty state that says how to turn it on.

import { paths } from './api.js';
import { barChart } from './chart.js';
import { Table, empty, h, meterCell, panel, setText } from './dom.js';
import * as fmt from './format.js';
import { load } from './status.js';

const STATUS_CLASS = { COMPLETED: 'ok', FAILED: 'failed', IN_PROGRESS: 'progress' };

function statusCell(td, c) {
  let el = td.firstChild;
  if (!el) { el = h('span'); td.append(el); }
  setText(el, (c.status || '').toLowerCase().replace('_', ' '));
  el.className = `cp-status cp-${STATUS_CLASS[c.status] || 'unknown'}`;
}

function stat(label, id) {
  const v = h('div', { class: 'stat-value', dataset: { stat: id } });
  const sub = h('div', { class: 'stat-sub' });
  return { el: h('div', { class: 'stat' }, h('div', { class: 'stat-label', text: label }), v, sub), v, sub };
}

export function checkpointsTab({ jobId }) {
  let baseDir = '';
  // a checkpoint's path relative to the job's checkpoint directory (shown above the table)
  const shortPath = (path) => (path && baseDir && path.startsWith(`${baseDir}/`) ? path.slice(baseDir.length + 1) : path || '');
  const el = h('div', { class: 'tab-checkpoints' });
  const emptyBox = h('div');

  const counts = { completed: stat('Completed', 'completed'), failed: stat('Failed', 'failed'), progress: stat('In progress', 'in_progress') };
  const interval = stat('Interval', 'interval');
  const latest = stat('Latest completed', 'latest');
  const latestDur = stat('Latest duration', 'latest_duration');
  const latestSize = stat('Latest size', 'latest_size');
  const dir = h('span', { class: 'mono' });
  const latestPath = h('span', { class: 'mono' });
  const summary = panel('Checkpoints');
  summary.body.append(
    h('div', { class: 'stats' }, counts.completed.el, counts.failed.el, counts.progress.el, interval.el, latest.el, latestDur.el, latestSize.el),
    h('div', { class: 'kv-line' }, h('span', { class: 'meta-k', text: 'directory' }), dir),
    h('div', { class: 'kv-line' }, h('span', { class: 'meta-k', text: 'latest path' }), latestPath));

  const charts = h('div', { class: 'charts' });
  const chartPanel = panel('Recent history');
  chartPanel.tools.append(h('span', { class: 'legend-item' }, h('span', { class: 'legend-swatch sw-cp-ok' }), 'completed'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-swatch sw-cp-failed' }), 'failed'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-swatch sw-cp-progress' }), 'in progress'),
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-swatch sw-cp-sp' }), 'savepoint'));
  chartPanel.body.append(charts);

  const history = new Table([
    { title: 'Id', num: true, text: (c) => String(c.id) },
    { title: 'Status', render: statusCell },
    { title: 'Type', render: (td, c) => { setText(td, c.savepoint ? 'savepoint' : 'checkpoint'); td.classList.toggle('cp-savepoint', !!c.savepoint); } },
    { title: 'Triggered', cls: 'nowrap', text: (c) => fmt.time(c.trigger_time_ms) },
    { title: 'Duration', num: true, text: (c) => fmt.duration(c.duration_ms) },
    { title: 'Size', num: true, text: (c) => fmt.bytes(c.size_bytes) },
    { title: 'Incremental', num: true, help: 'bytes written by this checkpoint', text: (c) => fmt.bytes(c.incremental_bytes) },
    { title: 'Alignment', num: true, help: 'longest barrier alignment', text: (c) => fmt.duration(c.alignment_ms) },
    { title: 'Acks', cls: 'cell-meter', help: 'acknowledged / tasks', render: meterCell((c) => (c.tasks ? c.acknowledged / c.tasks : 0), (c) => `${c.acknowledged ?? 0} / ${c.tasks ?? 0}`, 'meter-green') },
    { title: 'Path / failure', cls: 'mono small cell-path', text: (c) => c.failure || shortPath(c.path), tip: (c) => c.failure || c.path || '', },
  ], { key: (c) => c.id, empty: 'No checkpoint triggered yet', rowClass: (c) => `cp-row-${STATUS_CLASS[c.status] || 'unknown'}` });
  const historyPanel = panel('History');
  historyPanel.tools.append(h('span', { class: 'muted', text: 'newest first, last 50' }));
  historyPanel.body.append(history.el);

  const content = h('div', {}, summary.el, chartPanel.el, historyPanel.el);
  let mode = null;
  const show = (m) => {
    if (m === mode) return;
    mode = m;
    el.replaceChildren(m === 'data' ? content : emptyBox);
  };

  function render(cp) {
    const cfg = cp.config || {};
    if (cfg.enabled === false) {
      show('disabled');
      emptyBox.replaceChildren(empty('Checkpointing is disabled for this job',
        'Add `checkpointing: {interval: 10s}` to the job spec (docs/checkpoints.md) to make its state survive failures and to take savepoints.'));
      emptyBox.firstChild.dataset.testid = 'checkpoints-disabled';
      return;
    }
    show('data');
    const c = cp.counts || {};
    setText(counts.completed.v, fmt.int(c.completed ?? 0));
    setText(counts.failed.v, fmt.int(c.failed ?? 0));
    counts.failed.v.classList.toggle('bad', (c.failed || 0) > 0);
    setText(counts.progress.v, fmt.int(c.in_progress ?? 0));
    setText(interval.v, fmt.duration(cfg.interval_ms));
    setText(dir, cfg.dir || '—');
    baseDir = cfg.dir || '';
    const l = cp.latest_completed;
    setText(latest.v, l ? `#${l.id}` : '—');
    setText(latest.sub, l ? fmt.age(l.trigger_time_ms + (l.duration_ms || 0)) : 'none yet');
    setText(latestDur.v, l ? fmt.duration(l.duration_ms) : '—');
    setText(latestSize.v, l ? fmt.bytes(l.size_bytes) : '—');
    setText(latestSize.sub, l && fmt.isKnown(l.incremental_bytes) ? `${fmt.bytes(l.incremental_bytes)} new` : '');
    setText(latestPath, (l && l.path) || '—');

    const hist = cp.history || [];
    const recent = hist.slice(-30).map((x) => ({ ...x, cls: `cp-${STATUS_CLASS[x.status] || 'unknown'}${x.savepoint ? ' cp-sp' : ''}` }));
    const width = Math.max(240, Math.floor(((charts.clientWidth || 1000) - 28 - 24) / 3));
    charts.replaceChildren(
      barChart({ title: 'Duration', width, format: fmt.duration, items: recent.map((x) => ({ label: `#${x.id}`, value: x.status === 'IN_PROGRESS' ? Date.now() - x.trigger_time_ms : x.duration_ms, cls: x.cls })) }),
      barChart({ title: 'Size', width, format: fmt.bytes, items: recent.map((x) => ({ label: `#${x.id}`, value: x.size_bytes, cls: x.cls })) }),
      barChart({ title: 'Alignment', width, format: fmt.duration, items: recent.map((x) => ({ label: `#${x.id}`, value: x.alignment_ms, cls: x.cls })) }));
    history.update([...hist].reverse());
  }

  return {
    el,
    render() {},
    async refresh() {
      const { data, error } = await load(paths.checkpoints(jobId), { inline: [501] });
      if (data) render(data);
      else if (error && error.status === 501) {
        show('unavailable');
        emptyBox.replaceChildren(empty('Checkpoint statistics are not available', 'This JobManager does not report checkpoints yet.'));
      }
    },
  };
}
