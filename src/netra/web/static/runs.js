// Every run the page knows: its events in `seq` order, each exactly once, whether they
// came live over the WebSocket, from a `subscribe` replay, or from GET /api/runs/{id}/events.

export const TERMINAL = new Set(['run_completed', 'run_failed', 'run_cancelled']);

export class RunStore {
  constructor() {
    this.runs = new Map();
    this.listeners = new Set();
  }

  get(runId) {
    return this.runs.get(runId);
  }

  ensure(runId, threadId = null) {
    let run = this.runs.get(runId);
    if (!run) {
      run = { id: runId, threadId, events: [], lastSeq: 0, done: false, resyncing: false };
      this.runs.set(runId, run);
    }
    if (threadId && !run.threadId) run.threadId = threadId;
    return run;
  }

  // 'new', 'duplicate', or 'gap' (an event arrived ahead of one still missing: the caller
  // asks again from `lastSeq`, and the missing ones arrive in order).
  ingest(event) {
    const run = this.ensure(event.run_id, event.thread_id);
    if (event.seq <= run.lastSeq) return 'duplicate';
    if (event.seq !== run.lastSeq + 1) return 'gap';
    run.events.push(event);
    run.lastSeq = event.seq;
    run.resyncing = false;
    if (TERMINAL.has(event.type)) run.done = true;
    for (const listener of this.listeners) listener(run, event);
    return 'new';
  }

  // Runs still going as far as this page knows: the ones to `subscribe` to on (re)connect.
  open() {
    return [...this.runs.values()].filter((run) => !run.done);
  }

  // A run known to be going in this thread: its run_started was seen (or it was just started
  // over HTTP), and not its terminal event. A run only ensured while its events load is not.
  activeInThread(threadId) {
    return [...this.runs.values()]
      .find((run) => run.threadId === threadId && !run.done && (run.lastSeq > 0 || run.started)) || null;
  }

  listen(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear() {
    this.runs.clear();
  }
}
