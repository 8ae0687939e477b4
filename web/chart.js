// chart.js — a small inline-SVG bar chart (checkpoint durations and sizes): one bar per
// item, the y axis from 0 to the largest value with a max label, a tooltip per bar.
// barChart() returns a fresh <svg>; it is cheap enough to rebuild on every poll.

import { s } from './dom.js';

// items: [{label, value, cls}] (value null = no bar); format(value) -> axis/tooltip text.
export function barChart({ items, width = 420, height = 120, format = String, title = '' }) {
  const padL = 8;
  const padR = 8;
  const padT = 20;
  const padB = 16;
  const innerW = width - padL - padR;
  const innerH = height - padT - padB;
  const values = items.map((it) => (typeof it.value === 'number' && it.value > 0 ? it.value : 0));
  const max = Math.max(0, ...values);
  const slots = Math.max(items.length, 12);
  const slot = innerW / slots;
  const barW = Math.max(2, Math.min(18, slot * 0.72));
  const svg = s('svg', {
    class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title,
  });
  svg.append(
    s('text', { class: 'chart-title', x: padL, y: 12, text: title }),
    s('text', { class: 'chart-max', x: width - padR, y: 12, 'text-anchor': 'end', text: max > 0 ? `max ${format(max)}` : '' }),
    s('line', { class: 'chart-axis', x1: padL, x2: width - padR, y1: padT + innerH + 0.5, y2: padT + innerH + 0.5 }),
    s('line', { class: 'chart-grid', x1: padL, x2: width - padR, y1: padT + 0.5, y2: padT + 0.5 }),
  );
  items.forEach((it, i) => {
    const v = values[i];
    const hgt = max > 0 ? Math.max(v > 0 ? 1.5 : 0, (v / max) * innerH) : 0;
    const x = padL + i * slot + (slot - barW) / 2;
    const tip = `${it.label}: ${it.value === null || it.value === undefined ? 'n/a' : format(it.value)}`;
    svg.append(s('g', { class: `chart-bar ${it.cls || ''}` },
      s('title', { text: tip }),
      s('rect', { class: 'chart-hit', x: padL + i * slot, y: padT, width: slot, height: innerH }),
      s('rect', { x, y: padT + innerH - hgt, width: barW, height: hgt, rx: 1.5 })));
  });
  if (items.length > 0) {
    svg.append(
      s('text', { class: 'chart-x', x: padL, y: height - 3, text: items[0].label }),
      s('text', { class: 'chart-x', x: padL + (items.length - 0.5) * slot, y: height - 3, 'text-anchor': items.length > 1 ? 'middle' : 'start', text: items.length > 1 ? items[items.length - 1].label : '' }),
    );
  }
  return svg;
}
