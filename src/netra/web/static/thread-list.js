// The user's threads, newest first, with the one open marked and the ones running flagged.

import { clear, h } from './dom.js';
import { when } from './format.js';

export class ThreadList {
  constructor({ root, api, store }) {
    this.root = root;
    this.api = api;
    this.store = store;
    this.threads = [];
    this.currentId = null;
    this.reloadTimer = null;
    this.list = h('ul', { class: 'threads', 'aria-busy': 'true' });
    this.status = h('p', { class: 'muted' });
    clear(this.root).append(
      h('div', { class: 'panel-head' },
        h('h2', { id: 'threads-title' }, 'Threads'),
        h('a', { class: 'button secondary small', href: '#/' }, 'New thread')),
      this.list, this.status);
  }

  async load() {
    try {
      const { threads } = await this.api.threads();
      this.threads = threads;
      this.status.textContent = threads.length ? '' : 'No threads yet: ask a question to start one.';
    } catch (error) {
      this.status.textContent = `Threads could not be loaded: ${error.message}`;
    }
    this.list.setAttribute('aria-busy', 'false');
    this.render();
  }

  // Many events can ask for a reload at once (a run ending, a thread created elsewhere).
  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load(), 250);
  }

  has(threadId) {
    return this.threads.some((thread) => thread.id === threadId);
  }

  title(threadId) {
    return this.threads.find((thread) => thread.id === threadId)?.title || null;
  }

  setCurrent(threadId) {
    this.currentId = threadId;
    this.render();
  }

  reset() {
    this.threads = [];
    this.currentId = null;
    this.status.textContent = '';
    this.list.replaceChildren();
  }

  render() {
    this.list.replaceChildren(...this.threads.map((thread) => {
      const running = this.store.activeInThread(thread.id) !== null;
      const current = thread.id === this.currentId;
      return h('li', null,
        h('a', {
          href: `#/threads/${encodeURIComponent(thread.id)}`,
          class: running ? 'thread running' : 'thread',
          'aria-current': current ? 'page' : null,
        },
        h('span', { class: 'thread-title' }, thread.title || 'Untitled thread'),
        h('span', { class: 'thread-meta' },
          running ? h('span', { class: 'badge live' }, 'running') : null,
          h('time', { datetime: thread.updated_at }, when(thread.updated_at)))));
    }));
  }
}
