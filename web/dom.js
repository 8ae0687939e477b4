// dom.js — small DOM helpers shared by the pages: h()/s() build HTML/SVG elements (text
// always goes through text nodes, never innerHTML, so strings from the API are inert),
// setText() writes only on change, and Table keeps a keyed <table> whose rows are updated
// in place on every poll (no flicker, selection and hover survive a refresh).

const SVG_NS = 'http://www.w3.org/2000/svg';

// h('div', {class: 'x', dataset: {id: 1}, onclick: fn}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

// the same for SVG elements
export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function setText(el, text) {
  const t = text === null || text === undefined ? '' : String(text);
  if (el.textContent !== t) el.textContent = t;
}

export function setAttr(el, name, value) {
  const v = value === null || value === undefined ? null : String(value);
  if (v === null) { if (el.hasAttribute(name)) el.removeAttribute(name); }
  else if (el.getAttribute(name) !== v) el.setAttribute(name, v);
}

// A state badge (job or task state). update with setBadge(el, state).
export function badge(state) {
  const el = h('span', { class: 'badge' });
  setBadge(el, state);
  return el;
}

export function setBadge(el, state) {
  const st = state || 'unknown';
  setText(el, st);
  setAttr(el, 'class', `badge state-${st.replace(/[^a-z]/g, '')}`);
  setAttr(el, 'data-state', st);
}

export function empty(text, hint) {
  return h('div', { class: 'empty' }, h('div', { class: 'empty-title', text }), hint ? h('div', { class: 'empty-hint', text: hint }) : null);
}

// A panel with a title bar; returns {el, body, tools}.
export function panel(title, cls = '') {
  const tools = h('div', { class: 'panel-tools' });
  const body = h('div', { class: 'panel-body' });
  const el = h('section', { class: `panel ${cls}` }, h('header', { class: 'panel-head' }, h('h2', { text: title }), tools), body);
  return { el, body, tools };
}

// A table whose rows are keyed and updated in place.
// columns: [{title, id (-> td data-col), cls, num, help (header tooltip), text(item) -> string,
//           render(td, item) (builds/updates a cell), tip(item) -> string}]
// options: {key(item) -> string, href(item) -> '#/...' (row links), onRow(item), empty: text,
//           rowClass(item) -> string}
export class Table {
  constructor(columns, options) {
    this.columns = columns;
    this.options = options;
    this.rows = new Map();
    this.tbody = h('tbody');
    this.emptyRow = h('tr', { class: 'empty-row' }, h('td', { colspan: columns.length, text: 'Loading…' }));
    this.tbody.append(this.emptyRow);
    this.el = h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : c.cls || '', title: c.help || null, text: c.title })))),
      this.tbody));
  }

  // Forget every row and show "Loading…" until the next update().
  reset() {
    for (const tr of this.rows.values()) tr.remove();
    this.rows.clear();
    setText(this.emptyRow.firstChild, 'Loading…');
    if (!this.emptyRow.isConnected) this.tbody.append(this.emptyRow);
  }

  update(items) {
    const seen = new Set();
    let prev = null;
    setText(this.emptyRow.firstChild, this.options.empty || 'Nothing here yet');
    if (items.length === 0) {
      for (const tr of this.rows.values()) tr.remove();
      this.rows.clear();
      if (!this.emptyRow.isConnected) this.tbody.append(this.emptyRow);
      return;
    }
    if (this.emptyRow.isConnected) this.emptyRow.remove();
    for (const item of items) {
      const key = String(this.options.key(item));
      seen.add(key);
      let tr = this.rows.get(key);
      if (!tr) {
        tr = this.buildRow(item);
        this.rows.set(key, tr);
      }
      this.updateRow(tr, item);
      // keep DOM order equal to items order, moving only what is out of place
      const want = prev ? prev.nextSibling : this.tbody.firstChild;
      if (want !== tr) this.tbody.insertBefore(tr, want);
      prev = tr;
    }
    for (const [key, tr] of this.rows) {
      if (!seen.has(key)) { tr.remove(); this.rows.delete(key); }
    }
  }

  buildRow(item) {
    const tr = h('tr', { dataset: { key: String(this.options.key(item)) } });
    const href = this.options.href;
    const onRow = this.options.onRow;
    if (href || onRow) {
      tr.classList.add('link');
      tr.addEventListener('click', (e) => {
        if (e.target.closest('a, button')) return;
        const current = tr._item;
        if (onRow) onRow(current);
        else if (window.getSelection().toString() === '') location.hash = href(current);
      });
    }
    for (const c of this.columns) tr.append(h('td', { class: c.num ? 'num' : c.cls || '', dataset: c.id ? { col: c.id } : null }));
    return tr;
  }

  updateRow(tr, item) {
    tr._item = item;
    if (this.options.rowClass) {
      const extra = this.options.rowClass(item) || '';
      const base = this.options.href || this.options.onRow ? 'link' : '';
      setAttr(tr, 'class', `${base} ${extra}`.trim() || null);
    }
    this.columns.forEach((c, i) => {
      const td = tr.children[i];
      if (c.render) c.render(td, item);
      else setText(td, c.text(item));
      if (c.tip) setAttr(td, 'title', c.tip(item));
    });
  }
}

// A cell renderer for a link whose text and target follow the item.
export function linkCell(text, href, cls) {
  return (td, item) => {
    let a = td.firstChild;
    if (!a) { a = h('a', { class: cls || null }); td.append(a); }
    setText(a, text(item));
    setAttr(a, 'href', href(item));
  };
}

// A cell renderer for a state badge.
export function badgeCell(state) {
  return (td, item) => {
    let b = td.firstChild;
    if (!b) { b = badge(state(item)); td.append(b); }
    setBadge(b, state(item));
  };
}

// A horizontal meter (0..1), e.g. slot usage or busy time. meterCell(ratio, label)
export function meterCell(ratio, label, kind = '') {
  return (td, item) => {
    let m = td.firstChild;
    if (!m) {
      m = h('div', { class: `meter ${kind}` }, h('div', { class: 'meter-bar' }, h('div', { class: 'meter-fill' })), h('span', { class: 'meter-label' }));
      td.append(m);
    }
    const r = ratio(item);
    const w = r === null || r === undefined ? 0 : Math.max(0, Math.min(1, r));
    m.querySelector('.meter-fill').style.width = `${(w * 100).toFixed(1)}%`;
    setText(m.querySelector('.meter-label'), label(item));
  };
}
