// job_exceptions.js — the job page's Exceptions tab (GET /v1/jobs/<id>/exceptions): the
// root cause of the latest failure and every failure of the job, newest first.

import { paths } from './api.js';
import { empty, h, panel, setText } from './dom.js';
import * as fmt from './format.js';
import { load } from './status.js';

// "2026-11-28T15:20:01.120Z per_card (2/2) failed: ..." -> [time, rest]
function split(text) {
  const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\s+([\s\S]*)$/.exec(text || '');
  return m ? [new Date(m[1]), m[2]] : [null, text || ''];
}

function when(d) {
  return d && !Number.isNaN(d.getTime()) ? fmt.time(d.getTime()) : '';
}

export function exceptionsTab({ jobId }) {
  const root = panel('Root cause');
  const rootBody = h('div');
  root.body.append(rootBody);
  const hist = panel('History');
  const count = h('span', { class: 'muted' });
  hist.tools.append(count);
  const list = h('ol', { class: 'exceptions' });
  hist.body.append(list);
  const el = h('div', { class: 'tab-exceptions' }, root.el, hist.el);
  let last = null;

  function render(ex) {
    const sig = JSON.stringify([ex.root_cause, ex.history]);
    if (sig === last) return; // nothing new: keep the text selection intact
    last = sig;
    if (!ex.root_cause) {
      rootBody.replaceChildren(empty('No failures', 'This job has not failed. Task failures, lost TaskManagers and their causes show up here.'));
      rootBody.firstChild.dataset.testid = 'no-exceptions';
    } else {
      const [t, rest] = split(ex.root_cause);
      rootBody.replaceChildren(h('div', { class: 'exception exception-root' },
        h('div', { class: 'exception-time', text: when(t) }), h('pre', { class: 'exception-text', text: rest })));
    }
    const items = ex.history || [];
    setText(count, `${items.length} failure${items.length === 1 ? '' : 's'}, newest first`);
    list.replaceChildren(...items.map((it) => {
      const [t, rest] = split(it.exception);
      return h('li', { class: 'exception' }, h('div', { class: 'exception-time', text: when(t) }), h('pre', { class: 'exception-text', text: rest }));
    }));
    hist.el.hidden = items.length === 0;
  }

  return {
    el,
    render() {},
    async refresh() {
      const { data } = await load(paths.exceptions(jobId));
      if (data) render(data);
    },
  };
}
