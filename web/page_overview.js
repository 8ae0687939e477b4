// page_overview.js — the cluster at a glance (#/overview): TaskManagers alive/lost, task
// slots total/free, jobs by state (GET /v1/overview), then the jobs list (GET /v1/jobs).

import { Poller, paths } from './api.js';
import { h, panel, setAttr, setText } from './dom.js';
import * as fmt from './format.js';
import { jobsTable, sortJobs } from './page_jobs.js';
import { load, markRefreshed } from './status.js';

const JOB_STATES = ['running', 'restarting', 'created', 'cancelling', 'finished', 'failed', 'canceled'];

function card(label, id) {
  const value = h('div', { class: 'card-value', dataset: { value: id } });
  const sub = h('div', { class: 'card-sub' });
  const meter = h('div', { class: 'meter-bar card-meter' }, h('div', { class: 'meter-fill' }));
  const el = h('div', { class: 'card', dataset: { card: id } }, h('div', { class: 'card-label', text: label }), value, sub, meter);
  return { el, value, sub, meter };
}

export function overviewPage(root) {
  const tms = card('TaskManagers', 'taskmanagers');
  const slots = card('Task slots', 'slots');
  const running = card('Running jobs', 'running');
  const stateChips = h('div', { class: 'chips' });
  const jobsCard = h('div', { class: 'card card-wide', dataset: { card: 'jobs' } }, h('div', { class: 'card-label', text: 'Jobs by state' }), stateChips);
  const session = h('span', { class: 'mono' });

  const jobsPanel = panel('Jobs');
  const table = jobsTable();
  jobsPanel.body.append(table.el);
  jobsPanel.tools.append(h('a', { href: '#/jobs', class: 'muted', text: 'all jobs →' }));

  root.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Overview' }), h('div', { class: 'page-sub', title: 'changes when the JobManager restarts' }, 'session ', session)),
    h('div', { class: 'cards' }, tms.el, slots.el, running.el, jobsCard),
    jobsPanel.el,
  );

  const chips = new Map();
  for (const st of JOB_STATES) {
    const n = h('span', { class: 'chip-n' });
    const chip = h('a', { class: `chip state-${st}`, href: '#/jobs', dataset: { state: st } }, h('span', { class: 'chip-dot' }), h('span', { text: st }), n);
    chips.set(st, { chip, n });
    stateChips.append(chip);
  }

  const poller = new Poller(async () => {
    const [ov, jobs] = await Promise.all([load(paths.overview()), load(paths.jobs())]);
    if (ov.data) {
      const o = ov.data;
      const t = o.taskmanagers || {};
      setText(tms.value, fmt.int(t.alive));
      setText(tms.sub, t.lost ? `${t.lost} lost` : 'none lost');
      tms.sub.classList.toggle('warn', (t.lost || 0) > 0);
      tms.meter.hidden = true;
      const sl = o.slots || {};
      setText(slots.value, `${fmt.int(sl.free)} free`);
      setText(slots.sub, `${fmt.int((sl.total ?? 0) - (sl.free ?? 0))} of ${fmt.int(sl.total)} in use`);
      slots.meter.firstChild.style.width = sl.total ? `${(100 * (sl.total - sl.free)) / sl.total}%` : '0%';
      const js = o.jobs || {};
      setText(running.value, fmt.int(js.running ?? 0));
      setText(running.sub, js.restarting ? `${js.restarting} restarting` : 'none restarting');
      running.sub.classList.toggle('warn', (js.restarting || 0) > 0);
      running.meter.hidden = true;
      for (const [st, { chip, n }] of chips) {
        const c = js[st] ?? 0;
        setText(n, fmt.int(c));
        setAttr(chip, 'data-count', c);
        chip.classList.toggle('zero', c === 0);
      }
      setText(session, fmt.shortId(o.jobmanager && o.jobmanager.session));
    }
    if (jobs.data) table.update(sortJobs(jobs.data.jobs || []));
    if (ov.data || jobs.data) markRefreshed();
  }).start();

  return { destroy: () => poller.stop() };
}
