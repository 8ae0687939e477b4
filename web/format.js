// format.js — turns API numbers into short, readable text: counts, rates, bytes,
// durations, times, ages and short ids. Pure functions, no DOM; every one returns "—"
// for null/undefined so a metric that is not known yet never shows as 0.

export const DASH = '—';

const known = (v) => v !== null && v !== undefined && !(typeof v === 'number' && Number.isNaN(v));

// 1234567 -> "1,234,567"
export function int(v) {
  if (!known(v)) return DASH;
  return Math.round(v).toLocaleString('en-US');
}

// 0.5 -> "0.5", 1234 -> "1.23k", 12345678 -> "12.3M"
export function compact(v) {
  if (!known(v)) return DASH;
  const a = Math.abs(v);
  if (a < 1000) return a >= 100 || Number.isInteger(v) ? String(Math.round(v)) : trim(v.toFixed(1));
  const units = ['k', 'M', 'G', 'T', 'P'];
  let x = a;
  let u = -1;
  while (x >= 1000 && u < units.length - 1) { x /= 1000; u++; }
  const s = x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  return (v < 0 ? '-' : '') + trim(s) + units[u];
}

// records per second: 20051 -> "20.1k/s"
export function rate(v) {
  return known(v) ? `${compact(v)}/s` : DASH;
}

// 48234496 -> "46.0 MiB"
export function bytes(v) {
  if (!known(v)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = Math.abs(v);
  let u = 0;
  while (x >= 1024 && u < units.length - 1) { x /= 1024; u++; }
  const s = u === 0 ? String(Math.round(x)) : x >= 100 ? x.toFixed(0) : x.toFixed(1);
  return `${v < 0 ? '-' : ''}${s} ${units[u]}`;
}

// 45 -> "45 ms", 12345 -> "12.3 s", 185000 -> "3m 05s", 7384000 -> "2h 03m", 2 days -> "2d 00h"
export function duration(ms) {
  if (!known(ms)) return DASH;
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trim((ms / 1000).toFixed(1))} s`;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${pad(h)}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  return `${m}m ${pad(sec)}s`;
}

// epoch ms -> "2026-11-28 15:20:01" (local time)
export function time(ms) {
  if (!known(ms)) return DASH;
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// how long ago an epoch ms was, relative to now: "1.2 s ago"
export function age(ms, now = Date.now()) {
  if (!known(ms)) return DASH;
  return `${duration(Math.max(0, now - ms))} ago`;
}

// 0.42 -> "42%"
export function percent(ratio) {
  if (!known(ratio)) return DASH;
  return `${Math.round(ratio * 100)}%`;
}

// ms-per-second (0..1000) -> "53%"
export function perSecondShare(msPerSecond) {
  return known(msPerSecond) ? percent(msPerSecond / 1000) : DASH;
}

// "31c3a4363154cac093188c4a84dfdeae" -> "31c3a436"
export function shortId(id) {
  return typeof id === 'string' ? id.slice(0, 8) : DASH;
}

export function isKnown(v) {
  return known(v);
}

function pad(n) {
  return String(n).padStart(2, '0');
}

function trim(s) {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
