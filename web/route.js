// route.js — parses the dashboard's URL hash into a route: #/overview, #/jobs,
// #/jobs/<id>[/<tab>][?vertex=<vid>], #/taskmanagers[/<id>]. Pure (tested with node).

// '#/jobs/abc/checkpoints?vertex=1' -> {page: 'job', id: 'abc', tab: 'checkpoints', query: {vertex: '1'}}
export function parseRoute(hash) {
  const raw = (hash || '').replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  let parts;
  try {
    parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: 'notfound', query: {}, path: raw }; // a malformed %-escape
  }
  const query = Object.fromEntries(new URLSearchParams(queryPart));
  if (parts.length === 0) return { page: 'overview', query, redirect: true };
  const [first, id, tab] = parts;
  if (first === 'overview' && parts.length === 1) return { page: 'overview', query };
  if (first === 'jobs' && parts.length === 1) return { page: 'jobs', query };
  if (first === 'jobs' && parts.length <= 3) return { page: 'job', id, tab: tab || 'overview', query };
  if (first === 'taskmanagers' && parts.length === 1) return { page: 'taskmanagers', query };
  if (first === 'taskmanagers' && parts.length === 2) return { page: 'taskmanager', id, query };
  return { page: 'notfound', query, path: raw };
}
