// api.js — talks to the JobManager's REST API (same origin, /v1/...) and polls it.
// request() returns parsed JSON or throws ApiError (an HTTP error with the API's
// {"error": ...} message) or Unreachable (no answer at all). Poller runs a page's refresh
// every 2 s, one at a time, and pauses while the tab is hidden.
// A JobManager with security.auth.token_file answers 401 without its bearer token: the
// dashboard then asks for the token once, keeps it in sessionStorage (this tab only, gone
// when it closes) and sends it as `Authorization: Bearer ...` (docs/security.md).

export const POLL_MS = 2000;

export class ApiError extends Error {
  constructor(method, path, status, message) {
    super(message);
    this.name = 'ApiError';
    this.method = method;
    this.path = path;
    this.status = status;
  }
}

export class Unreachable extends Error {
  constructor(method, path, cause) {
    super(`JobManager unreachable (${method} ${path}): ${cause}`);
    this.name = 'Unreachable';
    this.method = method;
    this.path = path;
  }
}

const listeners = new Set();
let reachable = true;

// fn(reachable: boolean) is called whenever the JobManager starts or stops answering.
export function onReachability(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function setReachable(ok) {
  if (ok === reachable) return;
  reachable = ok;
  for (const fn of listeners) fn(ok);
}

const TOKEN_KEY = 'sluice.token';
let tokenDeclined = false;

function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

// Asks for the token after a 401; true when a new one was given (then retry).
function askForToken(wasWrong) {
  if (tokenDeclined || typeof window === 'undefined' || !window.prompt) return false;
  const token = window.prompt(wasWrong
    ? 'The bearer token was refused. Token of this JobManager (security.auth.token_file):'
    : 'This JobManager requires a bearer token (security.auth.token_file):');
  if (!token || !token.trim()) {
    tokenDeclined = true;  // no prompt on every poll; reload the page to try again
    return false;
  }
  try { sessionStorage.setItem(TOKEN_KEY, token.trim()); } catch { return false; }
  return true;
}

export async function request(method, path, body, opts = {}, retried = false) {
  const { timeoutMs = 10_000 } = opts;
  const sentToken = storedToken();
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let res;
  let text;
  try {
    res = await fetch(path, {
      method,
      cache: 'no-store',
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(sentToken ? { Authorization: `Bearer ${sentToken}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctl.signal,
    });
    text = await res.text();
  } catch (e) {
    setReachable(false);
    throw new Unreachable(method, path, ctl.signal.aborted ? 'timed out' : e.message);
  } finally {
    clearTimeout(timer);
  }
  setReachable(true);
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  // Concurrent calls all get 401: the first asks; the others see the new token and retry.
  if (res.status === 401 && !retried &&
      (storedToken() !== sentToken || askForToken(sentToken !== ''))) {
    return request(method, path, body, opts, true);
  }
  if (!res.ok) {
    const msg = json && typeof json.error === 'string' ? json.error : (text || res.statusText).slice(0, 300);
    throw new ApiError(method, path, res.status, msg);
  }
  if (json === null && text) throw new ApiError(method, path, res.status, 'the answer is not JSON');
  return json;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body ?? {}, opts);

// Paths of the endpoints the dashboard uses; ids are URI-encoded.
const e = encodeURIComponent;
export const paths = {
  overview: () => '/v1/overview',
  jobs: () => '/v1/jobs',
  job: (id) => `/v1/jobs/${e(id)}`,
  vertex: (id, vid) => `/v1/jobs/${e(id)}/vertices/${e(vid)}`,
  exceptions: (id) => `/v1/jobs/${e(id)}/exceptions`,
  checkpoints: (id) => `/v1/jobs/${e(id)}/checkpoints`,
  config: (id) => `/v1/jobs/${e(id)}/config`,
  watermarks: (id) => `/v1/jobs/${e(id)}/watermarks`,
  cancel: (id) => `/v1/jobs/${e(id)}/cancel`,
  savepoints: (id) => `/v1/jobs/${e(id)}/savepoints`,
  savepoint: (id, rid) => `/v1/jobs/${e(id)}/savepoints/${e(rid)}`,
  taskmanagers: () => '/v1/taskmanagers',
  taskmanager: (id) => `/v1/taskmanagers/${e(id)}`,
};

// Calls tick() now and then POLL_MS after each tick finished, never two at once.
// While document.hidden nothing runs; becoming visible refreshes at once.
export class Poller {
  constructor(tick, intervalMs = POLL_MS) {
    this.tick = tick;
    this.intervalMs = intervalMs;
    this.timer = null;
    this.running = false;
    this.stopped = true;
    this.again = false;
    this.onVisible = () => { if (!document.hidden) this.now(); };
  }

  start() {
    this.stopped = false;
    document.addEventListener('visibilitychange', this.onVisible);
    this.now();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  // Refresh as soon as possible (after an action, or when the tab becomes visible).
  now() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    if (this.running) { this.again = true; return; }
    if (document.hidden) return;
    this.running = true;
    Promise.resolve()
      .then(() => this.tick())
      .catch((err) => console.warn('refresh failed', err))
      .finally(() => {
        this.running = false;
        if (this.stopped) return;
        if (this.again) { this.again = false; this.now(); return; }
        this.timer = setTimeout(() => this.now(), this.intervalMs);
      });
  }
}
