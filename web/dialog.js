// dialog.js — in-page modal dialogs (a <dialog> element, never window.confirm/prompt, so
// they look like the rest of the page and a browser test can click them): confirmDialog()
// resolves true/false, promptDialog() resolves the entered text or null. Escape cancels.

import { h } from './dom.js';

function open({ name, title, body, confirmLabel, danger, input }) {
  return new Promise((resolve) => {
    const field = input ? h('input', {
      type: 'text', class: 'dialog-input', name: 'value', spellcheck: 'false', autocomplete: 'off',
      placeholder: input.placeholder || '', value: input.value || '', 'aria-label': input.label,
    }) : null;
    const error = h('div', { class: 'dialog-error', hidden: true });
    const ok = h('button', { type: 'submit', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`, dataset: { action: 'confirm' }, text: confirmLabel });
    const no = h('button', { type: 'button', class: 'btn', dataset: { action: 'dismiss' }, text: 'Back' });
    const form = h('form', { method: 'dialog', class: 'dialog-form' },
      h('h3', { class: 'dialog-title', text: title }),
      h('div', { class: 'dialog-body' }, body),
      input ? h('label', { class: 'dialog-label' }, h('span', { text: input.label }), field) : null,
      error,
      h('div', { class: 'dialog-actions' }, no, ok));
    const dlg = h('dialog', { class: 'dialog', dataset: { dialog: name } }, form);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      if (dlg.open) dlg.close();
      dlg.remove();
      resolve(value);
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (input) {
        const v = field.value.trim();
        const problem = input.validate ? input.validate(v) : (v ? null : `${input.label} is required`);
        if (problem) { error.textContent = problem; error.hidden = false; field.focus(); return; }
        finish(v);
      } else {
        finish(true);
      }
    });
    no.addEventListener('click', () => finish(input ? null : false));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); finish(input ? null : false); });
    dlg.addEventListener('click', (e) => { if (e.target === dlg) finish(input ? null : false); });
    document.body.append(dlg);
    dlg.showModal();
    (field || ok).focus();
  });
}

export function confirmDialog({ name = 'confirm', title, body, confirmLabel = 'OK', danger = false }) {
  return open({ name, title, body, confirmLabel, danger });
}

export function promptDialog({ name = 'prompt', title, body, label, placeholder, value, confirmLabel = 'OK', validate }) {
  return open({ name, title, body, confirmLabel, input: { label, placeholder, value, validate } });
}
