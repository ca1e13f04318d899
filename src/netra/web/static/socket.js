// The WebSocket `/ws`: connect with the access token, keep the connection alive, reconnect
// with backoff, and `subscribe` to every open run from the last `seq` seen, so a run in
// progress continues without gaps or duplicates (the RunStore drops what it already has).
//
// States: 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline'.

import { SessionEnded } from './session.js';

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const PONG_TIMEOUT_MS = 10_000;
const CLOSE_UNAUTHORIZED = 4401;

export class Socket extends EventTarget {
  constructor({ session, store }) {
    super();
    this.session = session;
    this.store = store;
    this.ws = null; // the connection in use
    this.pending = null; // a connection being opened (first connect, reconnect or renewal)
    this.state = 'idle';
    this.attempt = 0;
    this.failures = 0;
    this.forcedRefresh = false;
    this.retryAt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.heartbeatMs = 25_000;
    this.running = false;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.dropped('offline');
  }

  start() {
    if (this.running) return;
    this.running = true;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connect();
  }

  stop() {
    this.running = false;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    for (const ws of [this.ws, this.pending]) {
      if (ws) {
        ws.onclose = null;
        ws.close(1000, 'signed out');
      }
    }
    this.ws = null;
    this.pending = null;
    this.setState('idle');
  }

  // A new access token: open a new connection with it, and drop the old one once the new
  // one is established (make before break; the store removes the overlap's duplicates).
  renew() {
    if (this.running && !this.pending) this.connect();
  }

  reconnectNow() {
    if (!this.running || this.pending) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.connect();
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  follow(runId) {
    const run = this.store.get(runId);
    if (run && !run.done) this.send({ type: 'subscribe', run_id: runId, after_seq: run.lastSeq });
  }

  async connect() {
    clearTimeout(this.retryTimer);
    if (!this.ws) this.setState(this.attempt > 0 ? 'reconnecting' : 'connecting');
    let token;
    try {
      // A handshake refused for its token looks like a network failure to a browser: after
      // two failures in a row, refresh the token once before trying again.
      if (this.failures >= 2 && !this.forcedRefresh && navigator.onLine) {
        this.forcedRefresh = true;
        await this.session.refresh();
      }
      token = await this.session.accessToken();
    } catch (error) {
      if (error instanceof SessionEnded) return; // the app shows the sign-in form
      this.scheduleRetry();
      return;
    }
    if (!this.running) return;
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${window.location.host}/ws`, ['netra.v1', `bearer.${token}`]);
    this.pending = ws;
    ws.onmessage = (message) => this.received(ws, message);
    ws.onclose = (event) => this.closed(ws, event);
  }

  received(ws, message) {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (data.type === 'connection_established') {
      this.established(ws, data.data || {});
      return;
    }
    if (ws !== this.ws) return; // the old connection during a renewal: the new one has it all
    this.alive();
    if (data.run_id && Number.isInteger(data.seq)) {
      const verdict = this.store.ingest(data);
      const run = this.store.get(data.run_id);
      if (verdict === 'gap' && !run.resyncing) {
        run.resyncing = true;
        this.follow(data.run_id);
      }
      return;
    }
    this.dispatchEvent(new CustomEvent('message', { detail: data }));
  }

  established(ws, data) {
    const old = this.ws;
    this.ws = ws;
    this.pending = null;
    this.attempt = 0;
    this.failures = 0;
    this.forcedRefresh = false;
    this.heartbeatMs = Math.max(5, Number(data.heartbeat_interval_s) || 25) * 1000;
    if (old && old !== ws) {
      old.onclose = null;
      old.close(1000, 'replaced by a new connection');
    }
    this.setState('open');
    for (const run of this.store.open()) this.follow(run.id);
    this.startHeartbeat();
    this.dispatchEvent(new CustomEvent('open'));
  }

  closed(ws, event) {
    if (ws === this.pending) this.pending = null;
    if (ws !== this.ws) {
      // A connection that never got established.
      if (!this.ws) this.failed(event);
      else if (this.running) setTimeout(() => this.renew(), 5000); // renewal failed: retry
      return;
    }
    this.ws = null;
    this.stopHeartbeat();
    if (!this.running) return;
    if (event.code === CLOSE_UNAUTHORIZED) {
      // The access token expired or the session ended: refresh, then reconnect at once.
      this.session.refresh().then(() => this.reconnectNow(), () => {});
      this.setState('reconnecting');
      return;
    }
    this.failed(event);
  }

  failed(event) {
    if (!this.running) return;
    if (event && event.code === CLOSE_UNAUTHORIZED) {
      this.session.refresh().then(() => this.reconnectNow(), () => {});
      return;
    }
    this.failures += 1;
    this.scheduleRetry();
  }

  dropped(state) {
    // The network is gone: stop waiting for the socket to notice.
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close();
    }
    this.stopHeartbeat();
    if (this.running) {
      this.setState(state);
      this.scheduleRetry();
    }
  }

  scheduleRetry() {
    if (!this.running) return;
    clearTimeout(this.retryTimer);
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = Math.round(ceiling * (0.5 + Math.random() / 2));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    if (this.state !== 'offline' || navigator.onLine) this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // --- liveness: a `ping` every heartbeat; no answer in time means the link is dead ------

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.dropped('reconnecting'), PONG_TIMEOUT_MS);
    }, this.heartbeatMs);
  }

  alive() {
    clearTimeout(this.pongTimer);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  setState(state) {
    if (!navigator.onLine && (state === 'connecting' || state === 'reconnecting')) state = 'offline';
    if (this.state === state && state !== 'reconnecting') return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt: this.retryAt } }));
  }
}
