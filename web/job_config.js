// job_config.js — the job page's Configuration tab (GET /v1/jobs/<id>/config): whatever the
// answer holds, as tables — top-level values, one key/value table per object (restart,
// checkpointing, config, ...), one table per list of objects (vertices with their operator
// chains). Fetched until it succeeds once: a job's configuration does not change.

import { paths } from './api.js';
import { empty, h, panel } from './dom.js';
import * as fmt from './format.js';
import { load } from './status.js';

const TITLES = { restart: 'Restart strategy', checkpointing: 'Checkpointing', config: 'Job settings', vertices: 'Vertices', state: 'State backend' };

function title(key) {
  return TITLES[key] || key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// A value as text; *_ms numbers also in human form.
function valueText(key, v) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) {
    if (v.every((x) => isPlainObject(x) && 'name' in x)) return v.map((x) => (x.kind ? `${x.name} (${x.kind})` : String(x.name))).join(' → ');
    return v.map((x) => (isPlainObject(x) || Array.isArray(x) ? JSON.stringify(x) : String(x))).join(', ');
  }
  if (isPlainObject(v)) return JSON.stringify(v);
  if (/_ms$/.test(key) && (typeof v === 'number' || /^\d+$/.test(v))) return `${fmt.duration(Number(v))}  (${v} ms)`;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function kvTable(obj) {
  const keys = Object.keys(obj);
  if (keys.length === 0) return h('div', { class: 'muted pad', text: 'none set' });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid kv' }, h('tbody', {}, keys.map((k) =>
    h('tr', { dataset: { key: k } }, h('th', { class: 'mono', text: k }), h('td', { class: 'mono wrap', text: valueText(k, obj[k]) }))))));
}

function listTable(items) {
  const cols = [];
  for (const it of items) for (const k of Object.keys(it)) if (!cols.includes(k)) cols.push(k);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: items.every((it) => typeof it[c] === 'number') ? 'num' : null, text: c })))),
    h('tbody', {}, items.map((it) => h('tr', {}, cols.map((c) => {
      const v = it[c];
      return h('td', { class: typeof v === 'number' ? 'num' : 'wrap', text: valueText(c, v) });
    }))))));
}

export function configTab({ jobId }) {
  const el = h('div', { class: 'tab-config' }, h('div', { class: 'muted pad', text: 'Loading…' }));
  let done = false;

  function render(cfg) {
    const scalars = {};
    const panels = [];
    for (const [k, v] of Object.entries(cfg)) {
      if (isPlainObject(v)) {
        const p = panel(title(k));
        p.el.dataset.section = k;
        p.body.append(kvTable(v));
        panels.push(p.el);
      } else if (Array.isArray(v) && v.length && v.every(isPlainObject)) {
        const p = panel(title(k));
        p.el.dataset.section = k;
        p.body.append(listTable(v));
        panels.push(p.el);
      } else {
        scalars[k] = v;
      }
    }
    const job = panel('Job');
    job.el.dataset.section = 'job';
    job.body.append(kvTable(scalars));
    el.replaceChildren(h('div', { class: 'config-grid' }, job.el, ...panels.filter((p) => p.dataset.section !== 'vertices')),
      ...panels.filter((p) => p.dataset.section === 'vertices'));
  }

  return {
    el,
    render() {},
    async refresh() {
      if (done) return;
      const { data, error } = await load(paths.config(jobId), { inline: [404, 501] });
      if (data) { done = true; render(data); }
      else if (error && (error.status === 404 || error.status === 501)) {
        done = true;
        el.replaceChildren(empty('Configuration is not available', `This JobManager answered ${error.status}: ${error.message}`));
      }
    },
  };
}
