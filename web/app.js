// app.js — the dashboard's entry point: on every hash change it mounts the page of the
// route (parsed by route.js) and unmounts the previous one; it also keeps the left
// navigation's live counts and running jobs (GET /v1/overview and /v1/jobs every 5 s).
// A page is a function (root, params) -> {destroy(), update?(params)}; navigating within
// the same page (between a job's tabs, selecting a vertex) calls update() instead.

import { Poller, paths } from './api.js';
import { h, setText } from './dom.js';
import { jobPage } from './page_job.js';
import { jobsPage } from './page_jobs.js';
import { overviewPage } from './page_overview.js';
import { taskManagerPage, taskManagersPage } from './page_taskmanagers.js';
import { parseRoute } from './route.js';
import { clearErrors, initStatus, load } from './status.js';
import * as fmt from './format.js';

const PAGES = {
  overview: { nav: 'overview', title: 'Overview', mount: overviewPage },
  jobs: { nav: 'jobs', title: 'Jobs', mount: jobsPage },
  job: { nav: 'jobs', title: 'Job', mount: jobPage },
  taskmanagers: { nav: 'taskmanagers', title: 'TaskManagers', mount: taskManagersPage },
  taskmanager: { nav: 'taskmanagers', title: 'TaskManager', mount: taskManagerPage },
  notfound: { nav: null, title: 'Not found', mount: notFoundPage },
};

function notFoundPage(root, params) {
  root.append(h('div', { class: 'empty' },
    h('div', { class: 'empty-title', text: 'No such page' }),
    h('div', { class: 'empty-hint' }, `#/${params.path} is not a page of this dashboard. `, h('a', { href: '#/overview', text: 'Go to the overview' }))));
  return { destroy() {} };
}

let current = null; // {key, page}

function route() {
  const params = parseRoute(location.hash);
  if (params.redirect) {
    history.replaceState(null, '', '#/overview');
  }
  const def = PAGES[params.page];
  const key = params.page === 'job' || params.page === 'taskmanager' ? `${params.page}:${params.id}` : params.page;
  for (const a of document.querySelectorAll('.nav-link')) a.classList.toggle('active', a.dataset.nav === def.nav);
  if (current && current.key === key && current.page.update) {
    current.page.update(params);
    return;
  }
  if (current) current.page.destroy();
  clearErrors();
  const root = document.getElementById('page');
  root.replaceChildren();
  root.dataset.page = params.page;
  document.title = `${def.title} · Sluice`;
  current = { key, page: def.mount(root, params) };
  markNavJob();
  window.scrollTo(0, 0);
}

// highlight the current job among the running jobs in the navigation
function markNavJob() {
  const here = current && current.key.startsWith('job:') ? current.key.slice(4) : null;
  for (const a of document.getElementById('nav-running').children) a.classList.toggle('active', a.dataset.job === here);
}

// live counts and the running jobs in the left navigation
function startNav() {
  const jobsCount = document.querySelector('[data-nav="jobs"] .nav-count');
  const tmCount = document.querySelector('[data-nav="taskmanagers"] .nav-count');
  const running = document.getElementById('nav-running');
  const jmAddr = document.getElementById('jm-address');
  let sig = '';
  new Poller(async () => {
    const [ov, jobs] = await Promise.all([load(paths.overview()), load(paths.jobs())]);
    if (ov.data) {
      const o = ov.data;
      setText(jobsCount, fmt.int((o.jobs && o.jobs.running) || 0));
      setText(tmCount, fmt.int((o.taskmanagers && o.taskmanagers.alive) || 0));
      setText(jmAddr, (o.jobmanager && o.jobmanager.rpc_address) || '');
    }
    if (jobs.data) {
      const active = (jobs.data.jobs || []).filter((j) => j.state === 'running' || j.state === 'restarting' || j.state === 'created' || j.state === 'cancelling')
        .sort((a, b) => (b.start_time_ms ?? 0) - (a.start_time_ms ?? 0)).slice(0, 12);
      const next = JSON.stringify(active.map((j) => [j.id, j.name, j.state]));
      if (next !== sig) {
        sig = next;
        running.replaceChildren(...active.map((j) => h('a', { class: 'nav-job', href: `#/jobs/${j.id}`, title: `${j.name} (${j.id})`, dataset: { job: j.id } },
          h('span', { class: `nav-dot state-${j.state}` }), h('span', { class: 'nav-job-name', text: j.name }))));
      }
      markNavJob();
    }
  }, 5000).start();
}

function start() {
  initStatus();
  window.addEventListener('hashchange', route);
  route();
  startNav();
}

start();
