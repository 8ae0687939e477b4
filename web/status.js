// status.js — what the user is told about the API: the error banner (one line per failing
// request, cleared when that request succeeds again), the "JobManager unreachable,
// retrying" banner, short toasts after actions, and load(), the GET used by every page
// that routes its failures into those banners.

import { ApiError, Unreachable, get, onReachability } from './api.js';
import { h, setText } from './dom.js';

const errors = new Map(); // key -> message
let banner = null;
let offline = null;
let toasts = null;

export function initStatus() {
  banner = document.getElementById('banner');
  offline = document.getElementById('offline');
  toasts = document.getElementById('toasts');
  const liveText = document.querySelector('.live-text');
  onReachability((ok) => {
    offline.hidden = ok;
    document.body.classList.toggle('is-offline', !ok);
    if (liveText) liveText.textContent = ok ? 'live' : 'offline';
  });
}

// Show (or replace) the banner line for `key`.
export function showError(key, message) {
  errors.set(key, message);
  renderBanner();
}

export function clearError(key) {
  if (errors.delete(key)) renderBanner();
}

// Forget every error that belongs to the page being left (keys start with the prefix).
export function clearErrors(prefix = '') {
  let changed = false;
  for (const key of [...errors.keys()]) {
    if (key.startsWith(prefix)) { errors.delete(key); changed = true; }
  }
  if (changed) renderBanner();
}

function renderBanner() {
  if (!banner) return;
  const list = banner.querySelector('ul');
  list.replaceChildren(...[...errors].map(([key, msg]) =>
    h('li', { dataset: { key } }, h('span', { class: 'banner-msg', text: msg }),
      h('button', { class: 'banner-close', title: 'Dismiss', 'aria-label': 'Dismiss', text: '×', onclick: () => clearError(key) }))));
  banner.hidden = errors.size === 0;
}

export function describe(err) {
  if (err instanceof ApiError) return `${err.method} ${err.path} → ${err.status}: ${err.message}`;
  if (err instanceof Unreachable) return err.message;
  return String(err && err.message ? err.message : err);
}

// GET path; on success clears its banner line and returns {data}. On failure returns
// {error}: statuses listed in `inline` (e.g. 501 for a feature not built yet) are left to
// the caller to show in place; other HTTP errors go to the banner; when the JobManager
// does not answer the "unreachable" banner is already shown by the reachability listener.
export async function load(path, { inline = [] } = {}) {
  try {
    const data = await get(path);
    clearError(path);
    return { data };
  } catch (err) {
    if (err instanceof ApiError && inline.includes(err.status)) {
      clearError(path);
    } else if (err instanceof ApiError) {
      showError(path, describe(err));
    }
    return { error: err };
  }
}

// A short message in the bottom-right corner; kind: info | ok | error.
export function toast(message, kind = 'info', ms = 5000) {
  if (!toasts) return;
  const el = h('div', { class: `toast toast-${kind}`, role: 'status' }, message);
  toasts.append(el);
  setTimeout(() => { el.classList.add('toast-out'); setTimeout(() => el.remove(), 300); }, ms);
}

// The "last refresh" clock in the top bar.
export function markRefreshed() {
  const el = document.getElementById('refreshed');
  if (el) setText(el, new Date().toLocaleTimeString([], { hour12: false }));
}
