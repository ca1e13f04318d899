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
    this.rows = new Map(); // thread id -> its row's elements, reused across renders
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
    this.rows.clear();
    this.list.replaceChildren();
  }

  // Updates the rows in place, keyed by thread id: a row is rebuilt only when it is new
  // and the list reordered only when the order changed. Events re-render the list while
  // the user points at it, and a row replaced between mouse down and up loses the click.
  render() {
    const rows = this.threads.map((thread) => this.row(thread));
    const ids = new Set(this.threads.map((thread) => thread.id));
    for (const id of this.rows.keys()) if (!ids.has(id)) this.rows.delete(id);
    const shown = this.list.children;
    if (rows.length !== shown.length || rows.some((row, i) => row.item !== shown[i])) {
      this.list.replaceChildren(...rows.map((row) => row.item));
    }
  }

  row(thread) {
    let row = this.rows.get(thread.id);
    if (row === undefined) {
      const title = h('span', { class: 'thread-title' });
      const badge = h('span', { class: 'badge live' }, 'running');
      const time = h('time');
      const link = h('a', { href: `#/threads/${encodeURIComponent(thread.id)}` },
        title, h('span', { class: 'thread-meta' }, badge, time));
      row = { item: h('li', null, link), link, title, badge, time };
      this.rows.set(thread.id, row);
    }
    const running = this.store.activeInThread(thread.id) !== null;
    row.link.className = running ? 'thread running' : 'thread';
    if (thread.id === this.currentId) row.link.setAttribute('aria-current', 'page');
    else row.link.removeAttribute('aria-current');
    setText(row.title, thread.title || 'Untitled thread');
    row.badge.hidden = !running;
    row.time.setAttribute('datetime', thread.updated_at);
    setText(row.time, when(thread.updated_at));
    return row;
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
