// page_taskmanagers.js — the TaskManagers list (#/taskmanagers, GET /v1/taskmanagers) and
// one TaskManager (#/taskmanagers/<id>, GET /v1/taskmanagers/<id>) with its tasks.

import { Poller, paths } from './api.js';
import { Table, badge, h, linkCell, meterCell, panel, setBadge, setText } from './dom.js';
import { chainName } from './dag.js';
import * as fmt from './format.js';
import { load, markRefreshed } from './status.js';

function aliveCell(td, tm) {
  let el = td.firstChild;
  if (!el) { el = badge('alive'); td.append(el); }
  setBadge(el, tm.alive ? 'alive' : 'lost');
}

const slotsUsed = (tm) => (tm.slots && tm.slots.total ? (tm.slots.total - tm.slots.free) / tm.slots.total : 0);
const slotsText = (tm) => (tm.slots ? `${tm.slots.total - tm.slots.free} / ${tm.slots.total} used` : '—');
const m = (x) => x.metrics || {};

export function taskManagersPage(root) {
  const table = new Table([
    { title: 'TaskManager', cls: 'nowrap', render: linkCell((tm) => tm.id, (tm) => `#/taskmanagers/${tm.id}`, 'mono strong') },
    { title: 'Status', render: aliveCell },
    {
      title: 'Address',
      cls: 'mono',
      help: 'control (and data, when different); metrics in the tooltip',
      text: (tm) => (tm.data_address && tm.data_address !== tm.control_address ? `${tm.control_address} · ${tm.data_address}` : tm.control_address || '—'),
      tip: (tm) => `control ${tm.control_address || '—'}, data ${tm.data_address || '—'}, metrics ${tm.metrics_address || '—'}`,
    },
    { title: 'PID', num: true, text: (tm) => (tm.pid ?? '—') },
    { title: 'Slots', cls: 'cell-meter', render: meterCell(slotsUsed, slotsText, 'meter-blue') },
    { title: 'Memory (RSS)', id: 'rss', num: true, text: (tm) => fmt.bytes(tm.memory && tm.memory.rss_bytes) },
    { title: 'Heartbeat', num: true, text: (tm) => fmt.age(tm.last_heartbeat_ms), tip: (tm) => fmt.time(tm.last_heartbeat_ms) },
    { title: 'Tasks', num: true, text: (tm) => fmt.int(m(tm).tasks) },
    { title: 'Records in', num: true, text: (tm) => fmt.int(m(tm).records_in) },
    { title: 'Records out', num: true, text: (tm) => fmt.int(m(tm).records_out) },
    { title: 'Bytes in', num: true, text: (tm) => fmt.bytes(m(tm).bytes_in) },
    { title: 'Bytes out', num: true, text: (tm) => fmt.bytes(m(tm).bytes_out) },
  ], {
    key: (tm) => tm.id,
    href: (tm) => `#/taskmanagers/${tm.id}`,
    empty: 'No TaskManager has registered',
    rowClass: (tm) => (tm.alive ? '' : 'lost'),
  });
  const p = panel('TaskManagers');
  const count = h('span', { class: 'muted' });
  p.tools.append(count);
  p.body.append(table.el);
  root.append(h('div', { class: 'page-head' }, h('h1', { text: 'TaskManagers' })), p.el);

  const poller = new Poller(async () => {
    const { data } = await load(paths.taskmanagers());
    if (!data) return;
    const tms = data.taskmanagers || [];
    table.update(tms);
    const alive = tms.filter((t) => t.alive).length;
    setText(count, `${alive} alive · ${tms.length - alive} lost`);
    markRefreshed();
  }).start();
  return { destroy: () => poller.stop() };
}

export function taskManagerPage(root, params) {
  const tmId = params.id;
  const status = badge('unknown');
  const stats = new Map();
  const statEl = (label, id) => {
    const v = h('div', { class: 'stat-value', dataset: { stat: id } });
    const sub = h('div', { class: 'stat-sub' });
    stats.set(id, { v, sub });
    return h('div', { class: 'stat' }, h('div', { class: 'stat-label', text: label }), v, sub);
  };
  const info = panel('TaskManager');
  info.body.append(h('div', { class: 'stats' },
    statEl('Slots used', 'slots'), statEl('Memory (RSS)', 'rss'), statEl('Last heartbeat', 'heartbeat'),
    statEl('Tasks', 'tasks'), statEl('Records in', 'records_in'), statEl('Records out', 'records_out'),
    statEl('Bytes in', 'bytes_in'), statEl('Bytes out', 'bytes_out')));
  const addrs = h('div', { class: 'job-meta panel-foot' });
  info.body.append(addrs);

  const tasks = new Table([
    { title: 'Job', render: linkCell((t) => fmt.shortId(t.job_id), (t) => `#/jobs/${t.job_id}`, 'mono'), tip: (t) => t.job_id },
    { title: 'Vertex', render: linkCell((t) => chainName(t.vertex), (t) => `#/jobs/${t.job_id}/overview?vertex=${t.vertex_id}`) },
    { title: 'Subtask', num: true, text: (t) => String(t.subtask) },
    { title: 'Attempt', num: true, text: (t) => String(t.attempt ?? '—') },
    { title: 'Records in', num: true, text: (t) => fmt.int(m(t).records_in) },
    { title: 'Records out', num: true, text: (t) => fmt.int(m(t).records_out) },
    { title: 'In/s', num: true, text: (t) => fmt.rate(m(t).records_in_per_second) },
    { title: 'Out/s', num: true, text: (t) => fmt.rate(m(t).records_out_per_second) },
    { title: 'Busy', cls: 'cell-meter', render: meterCell((t) => (fmt.isKnown(m(t).busy_ms_per_second) ? m(t).busy_ms_per_second / 1000 : null), (t) => fmt.perSecondShare(m(t).busy_ms_per_second), 'meter-blue') },
    { title: 'Backpressured', cls: 'cell-meter', render: meterCell((t) => (fmt.isKnown(m(t).backpressured_ms_per_second) ? m(t).backpressured_ms_per_second / 1000 : null), (t) => fmt.perSecondShare(m(t).backpressured_ms_per_second), 'meter-orange') },
    { title: 'Idle ms/s', num: true, text: (t) => fmt.int(m(t).idle_ms_per_second) },
  ], { key: (t) => `${t.job_id}/${t.vertex_id}/${t.subtask}/${t.attempt}`, empty: 'No tasks on this TaskManager' });
  const tasksPanel = panel('Tasks');
  tasksPanel.body.append(tasks.el);

  root.append(h('div', { class: 'page-head' }, h('div', { class: 'job-title' },
    h('a', { class: 'crumb', href: '#/taskmanagers', text: 'TaskManagers' }), h('span', { class: 'crumb-sep', text: '/' }),
    h('h1', { class: 'mono', text: tmId }), status)), info.el, tasksPanel.el);

  const set = (id, v, sub) => { setText(stats.get(id).v, v); setText(stats.get(id).sub, sub || ''); };
  const poller = new Poller(async () => {
    const { data: tm } = await load(paths.taskmanager(tmId));
    if (!tm) return;
    setBadge(status, tm.alive ? 'alive' : 'lost');
    const mm = m(tm);
    set('slots', tm.slots ? `${tm.slots.total - tm.slots.free} / ${tm.slots.total}` : '—', tm.slots ? `${tm.slots.free} free` : '');
    set('rss', fmt.bytes(tm.memory && tm.memory.rss_bytes));
    set('heartbeat', fmt.age(tm.last_heartbeat_ms), fmt.time(tm.last_heartbeat_ms));
    set('tasks', fmt.int(mm.tasks));
    set('records_in', fmt.int(mm.records_in));
    set('records_out', fmt.int(mm.records_out));
    set('bytes_in', fmt.bytes(mm.bytes_in));
    set('bytes_out', fmt.bytes(mm.bytes_out));
    const a = [['control', tm.control_address], ['data', tm.data_address], ['metrics', tm.metrics_address], ['pid', tm.pid]];
    const sig = JSON.stringify(a);
    if (addrs.dataset.sig !== sig) {
      addrs.dataset.sig = sig;
      addrs.replaceChildren(...a.map(([k, v]) => h('span', { class: 'meta-item' }, h('span', { class: 'meta-k', text: k }), h('span', { class: 'mono', text: v ?? '—' }))));
    }
    tasks.update(tm.tasks || []);
    markRefreshed();
  }).start();
  return { destroy: () => poller.stop() };
}
