// page_job.js — one job (#/jobs/<id>[/<tab>]): the header (name, state, times, restarts,
// tasks, the latest failure), the Cancel and Savepoint actions with their in-page dialogs,
// and the tabs. GET /v1/jobs/<id> is polled every 2 s and handed to the active tab
// (job_overview.js, job_checkpoints.js, job_exceptions.js, job_config.js).

import { ApiError, Poller, get, paths, post } from './api.js';
import { confirmDialog, promptDialog } from './dialog.js';
import { badge, empty, h, setAttr, setBadge, setText } from './dom.js';
import * as fmt from './format.js';
import { checkpointsTab } from './job_checkpoints.js';
import { configTab } from './job_config.js';
import { exceptionsTab } from './job_exceptions.js';
import { overviewTab } from './job_overview.js';
import { clearError, describe, load, markRefreshed, showError, toast } from './status.js';

export const TABS = [
  { id: 'overview', title: 'Overview', make: overviewTab },
  { id: 'checkpoints', title: 'Checkpoints', make: checkpointsTab },
  { id: 'exceptions', title: 'Exceptions', make: exceptionsTab },
  { id: 'config', title: 'Configuration', make: configTab },
];

const ENDED = new Set(['finished', 'failed', 'canceled']);
const SAVEPOINT_DIR_KEY = 'sluice.savepointDir';

export function jobPage(root, params) {
  const jobId = params.id;
  let job = null;
  let tab = null;
  let tabId = null;
  let tabParams = params;

  const title = h('h1', { class: 'job-name', text: '…' });
  const state = badge('unknown');
  state.hidden = true;
  const cancelBtn = h('button', { class: 'btn btn-danger-outline', dataset: { action: 'cancel-job' }, text: 'Cancel job', disabled: true });
  const savepointBtn = h('button', { class: 'btn', dataset: { action: 'savepoint' }, text: 'Savepoint', disabled: true });
  const meta = {
    id: h('span', { class: 'mono', text: jobId }),
    start: h('span'),
    duration: h('span'),
    restarts: h('span'),
    tasks: h('span'),
  };
  const metaLine = h('div', { class: 'job-meta' },
    h('span', { class: 'meta-item' }, h('span', { class: 'meta-k', text: 'id' }), meta.id),
    h('span', { class: 'meta-item' }, h('span', { class: 'meta-k', text: 'started' }), meta.start),
    h('span', { class: 'meta-item' }, h('span', { class: 'meta-k', text: 'duration' }), meta.duration),
    h('span', { class: 'meta-item' }, h('span', { class: 'meta-k', text: 'restarts' }), meta.restarts),
    h('span', { class: 'meta-item' }, h('span', { class: 'meta-k', text: 'tasks' }), meta.tasks));
  const failure = h('a', { class: 'failure', hidden: true, href: `#/jobs/${jobId}/exceptions` });
  const savepointStatus = h('div', { class: 'notice', hidden: true, dataset: { testid: 'savepoint-status' } });
  const tabLinks = new Map();
  const tabBar = h('nav', { class: 'tabs' }, TABS.map((t) => {
    const a = h('a', { class: 'tab', href: `#/jobs/${jobId}/${t.id}`, dataset: { tab: t.id }, text: t.title });
    tabLinks.set(t.id, a);
    return a;
  }));
  const tabBody = h('div', { class: 'tab-body' });
  const missing = h('div', { hidden: true }, empty(`No job with id ${jobId}`, 'The JobManager does not know this job. Check the id, or pick a job from the jobs list.'));

  root.append(
    h('div', { class: 'page-head job-head' },
      h('div', { class: 'job-title' }, h('a', { class: 'crumb', href: '#/jobs', text: 'Jobs' }), h('span', { class: 'crumb-sep', text: '/' }), title, state),
      h('div', { class: 'job-actions' }, savepointBtn, cancelBtn)),
    metaLine, failure, savepointStatus, tabBar, tabBody, missing);

  // an unknown job: say so instead of showing empty tabs (the banner has the API's message)
  function showMissing(isMissing) {
    missing.hidden = !isMissing;
    for (const el of [metaLine, tabBar, tabBody, cancelBtn, savepointBtn]) el.hidden = isMissing;
    if (isMissing) setText(title, 'unknown job');
  }

  function renderHeader(j) {
    setText(title, j.name);
    document.title = `${j.name} · Sluice`;
    setBadge(state, j.state);
    state.hidden = false;
    setText(meta.start, fmt.time(j.start_time_ms));
    setText(meta.duration, fmt.duration(j.duration_ms));
    setText(meta.restarts, fmt.int(j.restarts));
    const t = j.tasks || {};
    setText(meta.tasks, `${t.running ?? 0} running / ${t.total ?? 0}` + (t.finished ? `, ${t.finished} finished` : ''));
    const active = !ENDED.has(j.state) && j.state !== 'cancelling';
    cancelBtn.disabled = !active;
    savepointBtn.disabled = j.state !== 'running';
    setAttr(savepointBtn, 'title', j.state === 'running' ? 'Write a savepoint of the running job' : 'Only a running job can take a savepoint');
    failure.hidden = !j.failure_cause;
    if (j.failure_cause) setText(failure, `Latest failure: ${j.failure_cause}`);
  }

  function showTab(id) {
    const def = TABS.find((t) => t.id === id) || TABS[0];
    if (def.id === tabId) { if (tab.setParams) tab.setParams(tabParams); return; }
    if (tab && tab.destroy) tab.destroy();
    tabId = def.id;
    for (const [tid, a] of tabLinks) a.classList.toggle('active', tid === def.id);
    tab = def.make({ jobId, params: tabParams });
    tabBody.replaceChildren(tab.el);
    if (job) tab.render(job);
  }

  const poller = new Poller(async () => {
    const { data, error } = await load(paths.job(jobId));
    if (data) {
      if (!job) showMissing(false);
      job = data;
      renderHeader(job);
    } else if (!job && error instanceof ApiError && error.status === 404) {
      showMissing(true);
      return;
    }
    if (tab && job) await tab.refresh(job);
    if (data) markRefreshed();
  });

  cancelBtn.addEventListener('click', async () => {
    const ok = await confirmDialog({
      name: 'cancel-job',
      title: 'Cancel this job?',
      body: [h('p', {}, 'Every task of ', h('strong', { text: job ? job.name : jobId }), ' will be stopped. Its state is not saved: take a savepoint first to resume it later.'),
        h('p', { class: 'mono muted', text: jobId })],
      confirmLabel: 'Cancel job',
      danger: true,
    });
    if (!ok) return;
    try {
      const res = await post(paths.cancel(jobId));
      clearError('action:cancel');
      toast(`Cancel requested: the job is ${res && res.state ? res.state : 'cancelling'}`, 'ok');
    } catch (err) {
      showError('action:cancel', `Cancel failed: ${describe(err)}`);
    }
    poller.now();
  });

  savepointBtn.addEventListener('click', async () => {
    const dir = await promptDialog({
      name: 'savepoint',
      title: 'Trigger a savepoint',
      body: h('p', {}, 'The savepoint is written into a new directory under the target directory, which every TaskManager and the JobManager must be able to write. The job keeps running.'),
      label: 'Target directory',
      placeholder: '/tmp/sluice/savepoints',
      value: localStorage.getItem(SAVEPOINT_DIR_KEY) || '',
      confirmLabel: 'Trigger savepoint',
    });
    if (dir === null) return;
    try { localStorage.setItem(SAVEPOINT_DIR_KEY, dir); } catch { /* private mode */ }
    let res;
    try {
      res = await post(paths.savepoints(jobId), { target_directory: dir });
      clearError('action:savepoint');
    } catch (err) {
      showError('action:savepoint', `Savepoint failed: ${describe(err)}`);
      return;
    }
    followSavepoint(res);
  });

  // Poll GET .../savepoints/<request_id> until it completes or fails; show it in the header.
  let savepointTimer = null;
  function followSavepoint(res) {
    clearTimeout(savepointTimer);
    const rid = res.request_id;
    const started = Date.now();
    const show = (status, text) => {
      savepointStatus.hidden = false;
      setAttr(savepointStatus, 'class', `notice notice-${status.toLowerCase()}`);
      setAttr(savepointStatus, 'data-status', status);
      savepointStatus.replaceChildren(h('strong', { text: `Savepoint ${rid}: ${status.toLowerCase().replace('_', ' ')}` }), ' ', h('span', { class: 'mono', text }));
    };
    show('IN_PROGRESS', res.path ? `→ ${res.path}` : '');
    const tick = async () => {
      let sp;
      try {
        sp = await get(paths.savepoint(jobId, rid));
      } catch (err) {
        show('UNKNOWN', describe(err));
        savepointTimer = setTimeout(tick, 2000);
        return;
      }
      if (sp.status === 'COMPLETED') {
        show('COMPLETED', sp.path || res.path || '');
        toast('Savepoint completed', 'ok');
      } else if (sp.status === 'FAILED') {
        show('FAILED', sp.failure || 'no reason given');
        toast('Savepoint failed', 'error');
      } else {
        show('IN_PROGRESS', `${res.path ? `→ ${res.path} ` : ''}(${fmt.duration(Date.now() - started)})`);
        savepointTimer = setTimeout(tick, 1000);
      }
    };
    savepointTimer = setTimeout(tick, 500);
  }

  showTab(params.tab);
  poller.start();

  return {
    update(p) { tabParams = p; showTab(p.tab); poller.now(); },
    destroy() {
      poller.stop();
      clearTimeout(savepointTimer);
      if (tab && tab.destroy) tab.destroy();
    },
  };
}
