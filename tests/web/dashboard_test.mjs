// dashboard_test.mjs — drives the Sluice web dashboard in headless Chromium against a live
// cluster and checks what a user would see: every page loads without console errors or
// failed requests, the DAG has one box per vertex of GET /v1/jobs/<id>, rates become
// non-zero, the backpressured vertex is marked, tabs show the API's data, errors and an
// unreachable JobManager show banners, Savepoint and Cancel work through their in-page
// dialogs. One line per passed check on stdout; the first failed check ends the run with
// a message on stderr and exit code 1 (2 for bad usage). Screenshots (PNG) go to --screenshots.
//
// Usage (run by the C++ test after it started a cluster and submitted a job):
//   node tests/web/dashboard_test.mjs --url http://127.0.0.1:PORT --job JOB_ID \
//        --backpressured-vertex VID --screenshots DIR [--chromium /usr/bin/chromium]
//        [--no-cancel] [--no-savepoint]
// Needs `npm ci` (or `npm install`) in tests/web once, for playwright-core.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = 'usage: node dashboard_test.mjs --url http://HOST:PORT --job JOB_ID --backpressured-vertex VID --screenshots DIR [--chromium PATH] [--no-cancel] [--no-savepoint]';

function usage(msg) {
  process.stderr.write(`dashboard_test: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      url: { type: 'string' },
      job: { type: 'string' },
      'backpressured-vertex': { type: 'string' },
      screenshots: { type: 'string' },
      chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
      'no-cancel': { type: 'boolean', default: false },
      'no-savepoint': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  usage(e.message);
}
if (args.help) { process.stdout.write(`${USAGE}\n`); process.exit(0); }
for (const k of ['url', 'job', 'backpressured-vertex', 'screenshots']) if (!args[k]) usage(`--${k} is required`);
const BASE = args.url.replace(/\/+$/, '');
const JOB = args.job;
const BP_VERTEX = Number(args['backpressured-vertex']);
if (!Number.isInteger(BP_VERTEX)) usage(`--backpressured-vertex must be a vertex id (an integer), got '${args['backpressured-vertex']}'`);
const SHOTS = path.resolve(args.screenshots);
if (!fs.existsSync(args.chromium)) {
  process.stderr.write(`dashboard_test: FAIL: no Chromium at ${args.chromium} (apt-get install chromium, or pass --chromium PATH)\n`);
  process.exit(1);
}
fs.mkdirSync(SHOTS, { recursive: true });

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  process.stderr.write(`dashboard_test: FAIL: cannot load playwright-core (${e.message}); run \`npm ci\` in ${path.dirname(new URL(import.meta.url).pathname)}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- helpers

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
let browser = null;
let page = null;
let passed = 0;
const cleanups = [];

class CheckFailed extends Error {}

function fail(msg) {
  throw new CheckFailed(msg);
}

async function check(name, fn) {
  const start = Date.now();
  try {
    const detail = await fn();
    passed++;
    process.stdout.write(`ok ${passed} - ${name}${detail ? ` (${detail})` : ''} [${((Date.now() - start) / 1000).toFixed(1)}s]\n`);
  } catch (e) {
    const msg = e instanceof CheckFailed ? e.message : (e && e.stack) || String(e);
    process.stderr.write(`dashboard_test: FAIL: ${name}: ${msg}\n`);
    if (page) {
      const file = path.join(SHOTS, 'failure.png');
      try {
        await page.screenshot({ path: file, fullPage: true });
        process.stderr.write(`dashboard_test: the page at the failure: ${file} (${page.url()})\n`);
      } catch { /* the page may be gone */ }
    }
    await closeBrowser();
    process.stderr.write(`dashboard_test: ${passed} passed, 1 failed after ${secs()} s\n`);
    process.exit(1);
  }
}

// Polls fn() until it returns a truthy value; fn may throw (the last error is reported).
async function waitFor(what, fn, timeoutMs = 15000, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing observed';
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e.message || String(e);
    }
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${last}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function api(p, init) {
  const res = await fetch(BASE + p, init);
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body };
}

async function apiOk(p) {
  const r = await api(p);
  if (r.status !== 200) fail(`GET ${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function closeBrowser() {
  if (browser) { const b = browser; browser = null; await b.close().catch(() => {}); }
  for (const c of cleanups.splice(0)) { try { c(); } catch { /* best effort */ } }
}

// Console errors, uncaught exceptions and failed requests, checked after each page.
// No failure is expected, except those the error-banner checks provoke.
const problems = [];
let allowExtra = null; // (kind, url, status) -> boolean, set during the error-banner checks
function expected(url, status) {
  let p;
  try { p = new URL(url).pathname; } catch { p = url; }
  return allowExtra ? allowExtra(p, status) : false;
}

function watch(pg) {
  pg.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = (m.location() && m.location().url) || '';
    const st = /status of (\d{3})/.exec(m.text());
    if (st && expected(url, Number(st[1]))) return;
    if (allowExtra && /Failed to load resource|ERR_CONNECTION|ERR_FAILED/.test(m.text())) return;
    problems.push(`console error: ${m.text()}${url ? ` (${url})` : ''}`);
  });
  pg.on('pageerror', (e) => problems.push(`uncaught exception: ${e.message}`));
  pg.on('requestfailed', (r) => {
    if (allowExtra && allowExtra(new URL(r.url()).pathname, 0)) return;
    problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`);
  });
  pg.on('response', (r) => {
    if (r.status() >= 400 && !expected(r.url(), r.status())) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
}

function expectClean(where) {
  if (problems.length) fail(`${where}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
}

async function shot(name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Go to a route of the single-page app (a hash change: the page is not reloaded).
async function go(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((h) => location.hash === h, hash);
}

// Waits until the "updated" clock in the top bar ticked `n` more times (n refreshes).
async function refreshes(n = 1) {
  const first = await page.textContent('#refreshed');
  let seen = first;
  let count = 0;
  await waitFor(`${n} dashboard refresh(es)`, async () => {
    const now = await page.textContent('#refreshed');
    if (now !== seen) { seen = now; count++; }
    return count >= n;
  }, 10000, 100);
}

const text = (sel) => page.$eval(sel, (el) => el.textContent.trim());

// ---------------------------------------------------------------- the checks

process.stdout.write(`dashboard_test: ${BASE}, job ${JOB}, backpressured vertex ${BP_VERTEX}, screenshots in ${SHOTS}\n`);

await check('the JobManager serves the dashboard (GET / and /web/*)', async () => {
  const res = await fetch(`${BASE}/`);
  const html = await res.text();
  if (res.status !== 200) fail(`GET / answered ${res.status}`);
  if (!/text\/html/.test(res.headers.get('content-type') || '')) fail(`GET / has content-type ${res.headers.get('content-type')}`);
  if (!html.includes('web/app.js')) fail('GET / is not the dashboard (no web/app.js in it)');
  for (const f of ['app.js', 'style.css']) {
    const r = await fetch(`${BASE}/web/${f}`);
    if (r.status !== 200) fail(`GET /web/${f} answered ${r.status}`);
  }
  const job = await apiOk(`/v1/jobs/${JOB}`);
  if (!Array.isArray(job.vertices) || !job.vertices.some((v) => v.id === BP_VERTEX)) fail(`job ${JOB} has no vertex ${BP_VERTEX}`);
  return `job '${job.name}' is ${job.state}`;
});

browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
page = await context.newPage();
page.setDefaultTimeout(15000);
watch(page);

await check('overview page: TaskManagers, slots, jobs by state and the job list', async () => {
  await page.goto(`${BASE}/#/overview`);
  const ov = await apiOk('/v1/overview');
  await waitFor('the TaskManagers card', async () => (await text('[data-card=taskmanagers] .card-value')) === String(ov.taskmanagers.alive));
  await waitFor('the slots card', async () => /free/.test(await text('[data-card=slots] .card-value')));
  await waitFor(`job ${JOB} in the jobs table`, () => page.$(`tr[data-key="${JOB}"]`));
  const running = await page.getAttribute('[data-card=jobs] .chip[data-state=running]', 'data-count');
  if (Number(running) < 1) fail(`the running-jobs chip counts ${running}`);
  expectClean('overview page');
  return `${ov.taskmanagers.alive} TaskManagers, ${running} running job(s), ${await shot('01-overview')}`;
});

await check('jobs page: the job is listed as running and links to its page', async () => {
  await go('#/jobs');
  const row = `table tr[data-key="${JOB}"]`;
  await waitFor('the job row', () => page.$(row));
  const state = await page.getAttribute(`${row} .badge`, 'data-state');
  if (state !== 'running') fail(`the job's badge says '${state}'`);
  const href = await page.getAttribute(`${row} a`, 'href');
  if (href !== `#/jobs/${JOB}`) fail(`the row links to '${href}'`);
  expectClean('jobs page');
  return shot('02-jobs');
});

let job;
await check('job page: the DAG has one box per vertex and one line per edge of GET /v1/jobs/<id>', async () => {
  await page.click(`table tr[data-key="${JOB}"] a`);
  await page.waitForFunction((id) => location.hash === `#/jobs/${id}`, JOB);
  job = await apiOk(`/v1/jobs/${JOB}`);
  const want = job.vertices.map((v) => String(v.id)).sort();
  await waitFor('the DAG', async () => {
    const got = (await page.$$eval('.dag [data-vertex-id]', (els) => els.map((e) => e.getAttribute('data-vertex-id')))).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`boxes for vertices [${got}], the API has [${want}]`);
    return true;
  });
  const edges = await page.$$eval('.dag path.edge', (els) => els.map((e) => `${e.dataset.source}->${e.dataset.target}`));
  const wantEdges = job.edges.map((e) => `${e.source}->${e.target}`);
  if (edges.sort().join() !== wantEdges.sort().join()) fail(`edges drawn [${edges}], the API has [${wantEdges}]`);
  const names = await page.$$eval('.dag .node-name', (els) => els.map((e) => e.textContent));
  if (names.some((n) => !n)) fail('a box has no name');
  if ((await text('.job-name')) !== job.name) fail(`the header says '${await text('.job-name')}', the job is '${job.name}'`);
  return `${want.length} vertices, ${wantEdges.length} edges`;
});

await check('job page: a records/s figure becomes non-zero', async () => {
  const found = await waitFor('a vertex with records/s > 0', () => page.$$eval('.dag [data-vertex-id]', (els) => {
    for (const el of els) {
      for (const dir of ['in', 'out']) {
        const raw = Number(el.getAttribute(`data-records-${dir}-rate`) || 0);
        const shown = el.querySelector(`[data-metric=records_${dir}_per_second]`).textContent;
        if (raw > 0 && shown !== '—' && !/^0(\/s)?$/.test(shown)) return `vertex ${el.getAttribute('data-vertex-id')} ${dir} ${shown}`;
      }
    }
    return null;
  }), 30000);
  return found;
});

await check(`job page: vertex ${BP_VERTEX} is marked backpressured`, async () => {
  const sel = `.dag [data-vertex-id="${BP_VERTEX}"]`;
  const level = await waitFor(`data-backpressure of vertex ${BP_VERTEX} to be high or low`, async () => {
    const l = await page.getAttribute(sel, 'data-backpressure');
    if (l !== 'high' && l !== 'low') throw new Error(`data-backpressure="${l}"`);
    return l;
  }, 30000, 250);
  const label = await page.$eval(`${sel} .bp-pill`, (el) => (getComputedStyle(el).display === 'none' ? '' : el.textContent));
  if (!/backpressure/i.test(label)) fail(`vertex ${BP_VERTEX} is '${level}' but its box shows no backpressure label`);
  const others = await page.$$eval('.dag [data-vertex-id]', (els) => els.map((e) => `${e.getAttribute('data-vertex-id')}:${e.getAttribute('data-backpressure')}`));
  return `${level}, label '${label}'; all: ${others.join(' ')}`;
});

await check('job page: the DAG is updated in place, not redrawn, on refresh', async () => {
  await page.evaluate(() => { document.querySelector('.dag-svg').dataset.mark = 'kept'; });
  await refreshes(2);
  const kept = await page.$eval('.dag-svg', (el) => el.dataset.mark === 'kept');
  if (!kept) fail('the DAG\'s <svg> element was replaced between two refreshes');
  return 'same <svg> after 2 refreshes';
});

await check('polling pauses while the tab is hidden and resumes when it is shown', async () => {
  const requests = [];
  const onRequest = (r) => { if (new URL(r.url()).pathname.startsWith('/v1/')) requests.push(Date.now()); };
  const setHidden = (hidden) => page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { value: h, configurable: true });
    Object.defineProperty(document, 'visibilityState', { value: h ? 'hidden' : 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  await setHidden(true);
  await new Promise((r) => setTimeout(r, 1000)); // let a refresh already under way finish
  page.on('request', onRequest);
  await new Promise((r) => setTimeout(r, 3500));
  const whileHidden = requests.length;
  await setHidden(false);
  await waitFor('a request after the tab is shown again', () => requests.length > whileHidden, 3000, 50);
  page.off('request', onRequest);
  if (whileHidden > 0) fail(`${whileHidden} API request(s) in 3.5 s while the tab was hidden`);
  return 'no request in 3.5 s hidden, one at once when shown';
});

await check('job page: clicking a vertex shows its subtasks', async () => {
  const v = job.vertices.find((x) => x.id === BP_VERTEX);
  await page.click(`.dag [data-vertex-id="${BP_VERTEX}"]`);
  await page.waitForFunction((id) => location.hash.endsWith(`?vertex=${id}`), BP_VERTEX);
  await waitFor(`${v.parallelism} subtask rows`, async () => {
    const n = await page.$$eval('.panel-subtasks tbody tr:not(.empty-row)', (els) => els.length);
    if (n !== v.parallelism) throw new Error(`${n} rows`);
    return true;
  });
  const tms = await page.$$eval('.panel-subtasks tbody tr td[data-col=taskmanager]', (els) => els.map((e) => e.textContent));
  if (tms.some((t) => !/^tm-|not placed/.test(t))) fail(`TaskManager cells: ${tms}`);
  const selected = await page.$eval(`.dag [data-vertex-id="${BP_VERTEX}"]`, (el) => el.classList.contains('selected'));
  if (!selected) fail('the clicked box is not highlighted');
  expectClean('job page, overview tab');
  return `${v.parallelism} subtasks on ${[...new Set(tms)].join(', ')}; ${await shot('03-job-overview')}`;
});

await check('job page, Checkpoints tab: counts and history as in the API', async () => {
  await page.click('.tabs a[data-tab=checkpoints]');
  await page.waitForFunction((id) => location.hash === `#/jobs/${id}/checkpoints`, JOB);
  const cp = await apiOk(`/v1/jobs/${JOB}/checkpoints`);
  if (cp.config && cp.config.enabled === false) {
    await waitFor('the "checkpointing is disabled" state', () => page.$('[data-testid=checkpoints-disabled]'));
    expectClean('checkpoints tab');
    return `checkpointing disabled; ${await shot('04-job-checkpoints')}`;
  }
  await waitFor('the completed count', async () => /^\d/.test(await text('[data-stat=completed]')));
  if (cp.history.length > 0) {
    await waitFor('history rows', async () => (await page.$$('.tab-checkpoints tbody tr:not(.empty-row)')).length > 0);
    await waitFor('the charts', async () => (await page.$$('.tab-checkpoints svg.chart')).length >= 2);
    const first = await text('.tab-checkpoints tbody tr:first-child td:first-child');
    const newest = cp.history[cp.history.length - 1].id;
    if (Number(first) < newest) fail(`the first history row is checkpoint ${first}, the API's newest is ${newest}`);
  }
  const interval = await text('[data-stat=interval]');
  expectClean('checkpoints tab');
  return `${cp.counts.completed} completed, ${cp.counts.in_progress} in progress, interval ${interval}; ${await shot('04-job-checkpoints')}`;
});

await check('job page, Exceptions tab: root cause as in the API', async () => {
  await page.click('.tabs a[data-tab=exceptions]');
  const ex = await apiOk(`/v1/jobs/${JOB}/exceptions`);
  if (ex.root_cause === null) {
    await waitFor('the "no failures" state', () => page.$('[data-testid=no-exceptions]'));
  } else {
    await waitFor('the root cause', () => page.$('.exception-root'));
  }
  expectClean('exceptions tab');
  return `${ex.history.length} failure(s); ${await shot('05-job-exceptions')}`;
});

await check('job page, Configuration tab: the job\'s configuration as tables', async () => {
  await page.click('.tabs a[data-tab=config]');
  await waitFor('the configuration tables', () => page.$('.tab-config [data-section=job] table'));
  const cells = await page.$$eval('.tab-config [data-section=job] td', (els) => els.map((e) => e.textContent));
  if (!cells.includes(JOB)) fail(`the job table does not show the job id: [${cells}]`);
  const sections = await page.$$eval('.tab-config [data-section]', (els) => els.map((e) => e.dataset.section));
  expectClean('configuration tab');
  return `sections ${sections.join(', ')}; ${await shot('06-job-config')}`;
});

let tmId;
await check('TaskManagers page: one row per TaskManager of the API', async () => {
  await go('#/taskmanagers');
  const tms = (await apiOk('/v1/taskmanagers')).taskmanagers;
  await waitFor(`${tms.length} rows`, async () => (await page.$$('table tbody tr[data-key]')).length === tms.length);
  tmId = tms.find((t) => t.alive && t.metrics && t.metrics.tasks > 0)?.id || tms[0].id;
  const rss = await text(`tr[data-key="${tmId}"] td[data-col=rss]`);
  if (!/iB|B$/.test(rss)) fail(`the memory cell says '${rss}'`);
  expectClean('taskmanagers page');
  return `${tms.length} TaskManagers; ${await shot('07-taskmanagers')}`;
});

await check('TaskManager page: its tasks with job, vertex and subtask', async () => {
  await page.click(`tr[data-key="${tmId}"] a`);
  await page.waitForFunction((id) => location.hash === `#/taskmanagers/${id}`, tmId);
  const tm = await apiOk(`/v1/taskmanagers/${tmId}`);
  await waitFor(`${tm.tasks.length} task rows`, async () => (await page.$$('tbody tr[data-key]')).length === tm.tasks.length);
  const jobLinks = await page.$$eval('tbody tr[data-key] td:first-child a', (els) => els.map((e) => e.getAttribute('href')));
  if (tm.tasks.some((t) => t.job_id === JOB) && !jobLinks.includes(`#/jobs/${JOB}`)) fail(`no task row links to job ${JOB}: [${jobLinks}]`);
  expectClean('taskmanager page');
  return `${tmId}: ${tm.tasks.length} tasks; ${await shot('08-taskmanager')}`;
});

await check('an API error is shown in the banner (unknown job)', async () => {
  const bogus = 'f'.repeat(32);
  allowExtra = (p, status) => p.startsWith(`/v1/jobs/${bogus}`) && status === 404;
  await go(`#/jobs/${bogus}`);
  await waitFor('the error banner', async () => {
    const visible = await page.isVisible('#banner');
    const msg = visible ? await text('#banner') : '';
    return visible && msg.includes('404') && msg.includes(bogus) ? msg : null;
  });
  const msg = await text('#banner .banner-msg');
  const file = await shot('09-error-banner');
  await go('#/overview');
  await waitFor('the banner to clear on another page', async () => !(await page.isVisible('#banner')));
  allowExtra = null;
  problems.length = 0;
  return `"${msg}"; ${file}`;
});

await check('an unreachable JobManager shows "JobManager unreachable, retrying" and recovers', async () => {
  allowExtra = (p) => p.startsWith('/v1/');
  await page.route('**/v1/**', (route) => route.abort('connectionrefused'));
  await waitFor('the unreachable banner', async () => (await page.isVisible('#offline')) && /JobManager unreachable, retrying/.test(await text('#offline')));
  const stillThere = await page.isVisible('[data-card=taskmanagers]');
  if (!stillThere) fail('the page lost its content while the JobManager was unreachable');
  const file = await shot('10-unreachable');
  await page.unroute('**/v1/**');
  await waitFor('the unreachable banner to go away', async () => !(await page.isVisible('#offline')), 10000);
  await refreshes(1);
  allowExtra = null;
  problems.length = 0;
  return file;
});

if (!args['no-savepoint']) {
  await check('Savepoint: the in-page dialog posts the request and the page follows it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dashboard-savepoint-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    await go(`#/jobs/${JOB}`);
    await page.waitForSelector('[data-action=savepoint]:not([disabled])');
    await page.click('[data-action=savepoint]');
    await page.waitForSelector('dialog[data-dialog=savepoint][open]');
    await page.fill('dialog[data-dialog=savepoint] input', dir);
    const posted = page.waitForResponse((r) => r.url().endsWith(`/v1/jobs/${JOB}/savepoints`) && r.request().method() === 'POST');
    await page.click('dialog[data-dialog=savepoint] [data-action=confirm]');
    const res = await posted;
    if (res.status() !== 202) fail(`POST /savepoints answered ${res.status()}: ${await res.text()}`);
    const body = await res.json();
    await waitFor('the savepoint status line', async () => {
      const st = await page.getAttribute('[data-testid=savepoint-status]', 'data-status');
      return st === 'IN_PROGRESS' || st === 'COMPLETED' ? st : null;
    });
    // a backpressured job may take long to complete a savepoint: wait a little, not for it
    let status = await page.getAttribute('[data-testid=savepoint-status]', 'data-status');
    try {
      status = await waitFor('the savepoint to complete', async () => {
        const st = await page.getAttribute('[data-testid=savepoint-status]', 'data-status');
        if (st === 'FAILED') fail(`the savepoint failed: ${await text('[data-testid=savepoint-status]')}`);
        return st === 'COMPLETED' ? st : null;
      }, 2500);
    } catch (e) {
      if (!(e instanceof CheckFailed) || /failed:/.test(e.message)) throw e;
    }
    const line = await text('[data-testid=savepoint-status]');
    expectClean('savepoint');
    const file = await shot('11-savepoint');
    return `request ${body.request_id}, ${status.toLowerCase()}: "${line}"; ${file}`;
  });
}

if (!args['no-cancel']) {
  await check('Cancel: the in-page confirm dialog cancels the job', async () => {
    await go(`#/jobs/${JOB}`);
    await page.waitForSelector('[data-action=cancel-job]:not([disabled])');
    await page.click('[data-action=cancel-job]');
    await page.waitForSelector('dialog[data-dialog=cancel-job][open]');
    const before = (await apiOk(`/v1/jobs/${JOB}`)).state;
    if (before !== 'running') fail(`the job is '${before}' before the confirmation: the dialog must not cancel by itself`);
    await page.click('dialog[data-dialog=cancel-job] [data-action=confirm]');
    const state = await waitFor('the API to report the job cancelling or canceled', async () => {
      const s = (await apiOk(`/v1/jobs/${JOB}`)).state;
      return s === 'cancelling' || s === 'canceled' ? s : null;
    }, 20000, 250);
    await waitFor('the page\'s badge to follow', async () => {
      const b = await page.getAttribute('.job-head .badge', 'data-state');
      return b === 'cancelling' || b === 'canceled';
    }, 10000);
    await waitFor('the Cancel button to be disabled', () => page.$('[data-action=cancel-job][disabled]'));
    expectClean('cancel');
    return `API says '${state}'; ${await shot('12-job-canceled')}`;
  });
}

await closeBrowser();
process.stdout.write(`dashboard_test: ${passed} passed, 0 failed in ${secs()} s\n`);
