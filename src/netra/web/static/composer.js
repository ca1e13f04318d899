// The question box: Enter sends (Shift+Enter is a new line), it grows with its text, the
// Ask button is disabled while the thread's agents work, and a status line says why.

import { $ } from './dom.js';

const MAX_HEIGHT_PX = 200;

export class Composer {
  constructor({ form, onSend }) {
    this.form = form;
    this.input = $('#composer-input', form);
    this.button = $('#composer-send', form);
    this.status = $('#composer-status', form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      onSend(this.input.value);
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    this.input.addEventListener('input', () => this.autosize());
  }

  take() {
    const text = this.input.value;
    this.input.value = '';
    this.autosize();
    return text;
  }

  restore(text) {
    this.input.value = text;
    this.autosize();
  }

  focus() {
    this.input.focus();
  }

  setBusy(busy) {
    this.button.disabled = busy;
    this.form.dataset.busy = String(busy);
    if (this.status.dataset.kind) return; // an error stays until the next attempt
    this.status.textContent = busy
      ? 'The agents are working. You can ask again when they finish, or stop them.'
      : '';
  }

  say(text, kind = '') {
    this.status.textContent = text;
    if (kind) this.status.dataset.kind = kind;
    else delete this.status.dataset.kind;
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_HEIGHT_PX)}px`;
  }
}
