// page_jobs.js — the jobs list (#/jobs, GET /v1/jobs), newest first, each row a link to
// its job page. jobsTable() is shared with the overview page.

import { Poller, paths } from './api.js';
import { Table, badgeCell, h, linkCell, meterCell, panel } from './dom.js';
import * as fmt from './format.js';
import { load, markRefreshed } from './status.js';

export function jobsTable() {
  return new Table([
    { title: 'Name', render: linkCell((j) => j.name, (j) => `#/jobs/${j.id}`, 'strong'), tip: (j) => j.name },
    { title: 'Id', cls: 'mono muted', text: (j) => fmt.shortId(j.id), tip: (j) => j.id },
    { title: 'State', render: badgeCell((j) => j.state) },
    { title: 'Started', cls: 'nowrap', text: (j) => fmt.time(j.start_time_ms) },
    { title: 'Duration', num: true, text: (j) => fmt.duration(j.duration_ms) },
    { title: 'Restarts', num: true, text: (j) => fmt.int(j.restarts) },
    {
      title: 'Tasks',
      cls: 'cell-meter',
      help: 'running / total',
      render: meterCell((j) => (j.tasks && j.tasks.total ? (j.tasks.running || 0) / j.tasks.total : 0),
        (j) => (j.tasks ? `${j.tasks.running ?? 0} / ${j.tasks.total ?? 0}` : '—'), 'meter-green'),
    },
  ], {
    key: (j) => j.id,
    href: (j) => `#/jobs/${j.id}`,
    empty: 'No jobs yet — submit one with `sluice run JOB.yaml`',
    rowClass: (j) => `job-${j.state}`,
  });
}

// newest first
export function sortJobs(jobs) {
  return [...jobs].sort((a, b) => (b.start_time_ms ?? 0) - (a.start_time_ms ?? 0));
}

export function jobsPage(root) {
  const p = panel('Jobs');
  const count = h('span', { class: 'muted' });
  p.tools.append(count);
  const table = jobsTable();
  p.body.append(table.el);
  root.append(h('div', { class: 'page-head' }, h('h1', { text: 'Jobs' })), p.el);

  const poller = new Poller(async () => {
    const { data } = await load(paths.jobs());
    if (!data) return;
    const jobs = sortJobs(data.jobs || []);
    table.update(jobs);
    const running = jobs.filter((j) => j.state === 'running').length;
    count.textContent = `${jobs.length} jobs · ${running} running`;
    markRefreshed();
  }).start();

  return { destroy: () => poller.stop() };
}
