// The open thread: its history (each question with its run: steps, answer, report), the
// composer, and the live runs. A new thread is created by its first question.

import { Composer } from './composer.js';
import { appendAll, clear, h, nextFrame } from './dom.js';
import { renderReport } from './report-view.js';
import { RunView } from './run-view.js';

const SUGGESTIONS = [
  'How do we cut our AI costs?',
  'Where does our money go, by model and by feature?',
  'Which feature grew most last week?',
  'What is the p95 latency of each model?',
];
const ERRORS = {
  thread_busy: 'The agents are still answering in this thread. Wait for them, or stop them first.',
  too_many_runs: 'You already have as many runs going as the server allows. Wait for one to finish.',
  rate_limited: 'Too many requests at once. Wait a moment and try again.',
  not_found: 'This thread or dataset no longer exists.',
};
const START_TIMEOUT_MS = 15_000;

export class Conversation {
  constructor({ root, form, api, socket, store, data, threads }) {
    this.root = root;
    this.composer = new Composer({ form, onSend: (text) => this.send(text) });
    this.api = api;
    this.socket = socket;
    this.store = store;
    this.data = data;
    this.threads = threads;
    this.threadId = null;
    this.turns = new Map(); // run id -> turn
    this.pending = new Map(); // request id -> turn waiting for its run_started
    this.loadSeq = 0;
    this.scrollQueued = false;
    data.addEventListener('change', () => {
      if (this.threadId === null && this.welcome) this.renderWelcome();
    });
  }

  // --- opening a thread ------------------------------------------------------------------

  reset() {
    this.loadSeq += 1;
    for (const turn of this.turns.values()) turn.view.destroy();
    for (const turn of this.pending.values()) clearTimeout(turn.timeout);
    this.turns.clear();
    this.pending.clear();
    this.threadId = null;
    this.welcome = null;
    this.say('');
    clear(this.root);
  }

  openNew() {
    this.reset();
    this.threads.setCurrent(null);
    this.list = h('div', { class: 'turns' });
    this.welcome = h('div', { class: 'welcome' });
    this.root.append(this.welcome, this.list);
    this.renderWelcome();
    this.updateComposer();
    document.title = 'New thread · Netra Apex';
  }

  renderWelcome() {
    const noData = this.data.loaded && this.data.current === null;
    appendAll(clear(this.welcome), [
      h('h1', null, 'Ask about your AI spend'),
      h('p', { class: 'lede' }, 'Agents triage your question, analyse your usage data, price the savings and write a report. You see each step as it happens.'),
      noData ? h('div', { class: 'notice data-hint' },
        h('p', null, 'No usage data is loaded yet. The agents need it for figures.'),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', onclick: () => this.data.demo() }, 'Load demo data'),
          h('button', { type: 'button', class: 'secondary', onclick: () => this.data.fileInput.click() }, 'Upload a usage file…'))) : null,
      h('h2', { class: 'suggestions-title' }, 'Try asking'),
      h('ul', { class: 'suggestions' }, SUGGESTIONS.map((text) =>
        h('li', null, h('button', { type: 'button', class: 'suggestion', onclick: () => this.send(text) }, text)))),
    ]);
  }

  async open(threadId) {
    this.reset();
    this.threadId = threadId;
    this.threads.setCurrent(threadId);
    const seq = this.loadSeq;
    this.title = h('h1', { class: 'thread-title' }, this.threads.title(threadId) || 'Loading…');
    this.list = h('div', { class: 'turns', 'aria-busy': 'true' });
    this.root.append(
      h('div', { class: 'thread-head' }, this.title,
        h('button', { type: 'button', class: 'ghost small', onclick: () => this.remove() }, 'Delete thread')),
      this.list);
    this.updateComposer();
    let thread;
    let messages;
    try {
      [thread, { messages }] = await Promise.all([this.api.thread(threadId), this.api.messages(threadId)]);
    } catch (error) {
      if (seq !== this.loadSeq) return;
      this.title.textContent = 'Thread not available';
      this.list.append(h('p', { class: 'notice' }, error.status === 404
        ? 'This thread does not exist, or it is not yours.'
        : `The thread could not be loaded: ${error.message}`));
      return;
    }
    if (seq !== this.loadSeq) return;
    this.title.textContent = thread.title || 'Untitled thread';
    document.title = `${thread.title || 'Thread'} · Netra Apex`;
    const turns = [];
    const byRun = new Map();
    for (const message of messages) {
      let turn = byRun.get(message.run_id);
      if (!turn) {
        turn = { runId: message.run_id, user: null, assistant: null };
        byRun.set(message.run_id, turn);
        turns.push(turn);
      }
      turn[message.role] = message.content;
    }
    turns.forEach((item, i) => {
      const live = this.turns.get(item.runId);
      if (live) {
        this.list.append(live.el); // it started while the history was loading
        return;
      }
      const turn = this.addTurn(item.runId, item.user || '', { history: i < turns.length - 1 });
      if (item.assistant) turn.view.showAnswer(item.assistant);
    });
    this.list.setAttribute('aria-busy', 'false');
    this.scrollToEnd(true);
    // The steps and status of every turn come from its stored events; an unfinished run is
    // then followed live from the last seq seen.
    await Promise.all(turns.map((item) => this.replay(item.runId, seq)));
    if (seq === this.loadSeq) this.scrollToEnd(true);
  }

  async replay(runId, seq) {
    const turn = this.turns.get(runId);
    const run = this.store.ensure(runId, this.threadId);
    for (const event of run.events) turn.view.apply(event); // already known to this page
    try {
      const { events } = await this.api.events(runId, run.lastSeq);
      if (seq !== this.loadSeq) return;
      for (const event of events) this.store.ingest(event);
    } catch (error) {
      if (seq === this.loadSeq) turn.view.setStatus('unknown', `The steps could not be loaded: ${error.message}`);
      return;
    }
    if (!run.done) this.socket.follow(runId);
    this.updateComposer();
  }

  addTurn(runId, message, { history = false } = {}) {
    const view = new RunView({
      runId, history,
      onStop: (id) => this.stop(id),
      onFinished: (finished, event) => this.finished(finished, event),
      onAsk: (text) => this.send(text),
    });
    const reportSlot = h('div', { class: 'report-slot' });
    const el = h('article', { class: 'turn', dataset: { runId: runId || '' } },
      h('div', { class: 'message user' }, h('span', { class: 'who' }, 'You'), h('p', { class: 'text' }, message)),
      h('div', { class: 'message assistant' }, h('span', { class: 'who' }, 'Netra Apex'), view.el, reportSlot));
    const turn = { runId, view, el, reportSlot, history };
    if (runId) this.turns.set(runId, turn);
    this.list.append(el);
    return turn;
  }

  bind(turn, runId) {
    turn.runId = runId;
    turn.view.runId = runId;
    turn.el.dataset.runId = runId;
    turn.view.el.dataset.runId = runId;
    this.turns.set(runId, turn);
  }

  // --- live events -------------------------------------------------------------------

  onEvent(run, event) {
    if (event.type === 'run_started' && this.pending.has(event.data?.request_id)) {
      const turn = this.pending.get(event.data.request_id);
      this.pending.delete(event.data.request_id);
      clearTimeout(turn.timeout);
      this.bind(turn, run.id);
      if (this.threadId === null) this.adopt(run.threadId);
    }
    if (run.threadId !== this.threadId || this.threadId === null) return;
    let turn = this.turns.get(run.id);
    if (!turn) {
      if (event.type !== 'run_started') return;
      turn = this.addTurn(run.id, event.data?.message || ''); // asked in another tab
    }
    const follow = this.nearEnd();
    turn.view.apply(event);
    if (event.type === 'run_started' || TERMINAL_TYPES.has(event.type)) this.updateComposer();
    if (follow) this.scrollToEnd();
  }

  // The first question of a new thread created it: this page now shows that thread.
  adopt(threadId) {
    this.threadId = threadId;
    this.welcome?.remove();
    this.welcome = null;
    window.history.pushState(null, '', `#/threads/${encodeURIComponent(threadId)}`);
    this.threads.setCurrent(threadId);
    this.threads.reloadSoon();
  }

  onSocketMessage(message) {
    if (message.type !== 'error') return;
    const turn = this.pending.get(message.data?.request_id);
    if (!turn) return;
    this.pending.delete(message.data.request_id);
    this.failStart(turn, message.data);
  }

  failStart(turn, error) {
    clearTimeout(turn.timeout);
    turn.el.remove();
    this.composer.restore(turn.message);
    this.say(ERRORS[error.code] || error.message || 'The question could not be sent.', 'error');
    this.updateComposer();
  }

  async finished(view, event) {
    this.updateComposer();
    if (event.type !== 'run_completed' || !event.data?.report_id) return;
    const turn = this.turns.get(view.runId);
    if (!turn) return;
    const isLatest = this.list.lastElementChild === turn.el;
    if (isLatest && !turn.history) await this.showReport(turn);
    else {
      turn.reportSlot.replaceChildren(h('button', {
        type: 'button', class: 'secondary small',
        onclick: () => this.showReport(turn),
      }, 'Show report'));
    }
  }

  async showReport(turn) {
    const seq = this.loadSeq;
    turn.reportSlot.replaceChildren(h('p', { class: 'muted' }, 'Loading the report…'));
    let report = null;
    for (let attempt = 0; attempt < 3 && report === null; attempt += 1) {
      try {
        report = await this.api.report(turn.runId);
      } catch (error) {
        if (error.code !== 'not_ready') {
          turn.reportSlot.replaceChildren(error.status === 404 ? '' : h('p', { class: 'error' }, `The report could not be loaded: ${error.message}`));
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    if (seq !== this.loadSeq || !report) return;
    const follow = this.nearEnd();
    turn.reportSlot.replaceChildren(renderReport(report, { onDownload: () => this.download(turn.runId) }));
    if (follow) this.scrollToEnd();
  }

  async download(runId) {
    try {
      const text = await this.api.reportMarkdown(runId);
      const url = URL.createObjectURL(new Blob([text], { type: 'text/markdown' }));
      const link = h('a', { href: url, download: `netra-report-${runId}.md` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.say(error.message, 'error');
    }
  }

  // --- asking and stopping -----------------------------------------------------------

  async send(text) {
    const message = String(text || '').trim();
    if (!message) {
      this.say('Type a question first.', 'error');
      this.composer.focus();
      return;
    }
    if (this.busy()) {
      this.say(ERRORS.thread_busy, 'error');
      return;
    }
    this.say('');
    if (this.composer.input.value.trim() === message) this.composer.take(); // not a suggestion
    this.welcome?.remove();
    this.welcome = null;
    const turn = this.addTurn(null, message);
    turn.message = message;
    turn.view.setStatus('queued', 'Sending…');
    this.scrollToEnd(true);
    const requestId = `req-${crypto.getRandomValues(new Uint32Array(2)).join('-')}`;
    const request = { type: 'start_agent', message, request_id: requestId };
    if (this.threadId) request.thread_id = this.threadId;
    if (this.data.currentId) request.dataset_id = this.data.currentId;
    this.pending.set(requestId, turn);
    this.updateComposer();
    if (this.socket.send(request)) {
      turn.timeout = setTimeout(() => {
        if (this.pending.delete(requestId)) {
          this.failStart(turn, { message: 'The server did not answer. Check the thread list: the question may have been received.' });
          this.threads.reloadSoon();
        }
      }, START_TIMEOUT_MS);
      return;
    }
    // No live connection: start over HTTP; the socket follows the run once it is back.
    try {
      const threadId = this.threadId || (await this.api.createThread(message.slice(0, 60))).id;
      const run = await this.api.startRun(threadId, message, this.data.currentId);
      this.pending.delete(requestId);
      this.bind(turn, run.id);
      this.store.ensure(run.id, threadId).started = true;
      if (this.threadId === null) this.adopt(threadId);
      turn.view.setStatus('running', 'Started; waiting for the connection to show its steps…');
      this.socket.follow(run.id);
    } catch (error) {
      this.pending.delete(requestId);
      this.failStart(turn, error);
    }
  }

  async stop(runId) {
    const turn = this.turns.get(runId);
    if (this.socket.send({ type: 'stop_agent', run_id: runId })) return;
    try {
      await this.api.cancel(runId);
    } catch (error) {
      turn?.view.stopFailed();
      this.say(`The run could not be stopped: ${error.message}`, 'error');
    }
  }

  async remove() {
    if (!this.threadId) return;
    // eslint-disable-next-line no-alert
    if (!window.confirm('Delete this thread and its answers? A run still going in it is stopped.')) return;
    try {
      await this.api.deleteThread(this.threadId);
      this.threads.reloadSoon();
      window.location.hash = '#/';
    } catch (error) {
      this.say(`The thread could not be deleted: ${error.message}`, 'error');
    }
  }

  busy() {
    return this.pending.size > 0 || (this.threadId !== null && this.store.activeInThread(this.threadId) !== null);
  }

  updateComposer() {
    this.composer.setBusy(this.busy());
  }

  say(text, kind = '') {
    this.composer.say(text, kind);
  }

  // --- scrolling: follow the run while the reader is at the end, never yank them back ---

  nearEnd() {
    const el = this.root;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }

  scrollToEnd(force = false) {
    if (this.scrollQueued && !force) return;
    this.scrollQueued = true;
    nextFrame(() => {
      this.scrollQueued = false;
      this.root.scrollTop = this.root.scrollHeight;
    });
  }
}

const TERMINAL_TYPES = new Set(['run_completed', 'run_failed', 'run_cancelled']);
