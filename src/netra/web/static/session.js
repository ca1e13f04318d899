// The signed-in session: who the user is and their tokens.
//
// - The access token lives in memory only, and is refreshed before it expires (at 80 % of
//   its lifetime, at most a minute before the end) and on demand when a call finds it old.
// - The refresh token: a server that keeps it in an httpOnly cookie (docs/security.md)
//   answers without `refresh_token`; the page then never sees it and only remembers, in
//   localStorage, that a cookie session exists. Against a plain PROTOCOL.md server the
//   refresh token is kept in this tab's sessionStorage so a reload stays signed in.
// - Refreshes are serialised across tabs with a Web Lock: the server rotates refresh tokens
//   and revokes the session when one is presented twice.
// - A duplicated tab inherits sessionStorage; it notices (the original tab holds a Web
//   Lock named after the tab) and forgets the copied token instead of racing the original.

import { ApiError, REFRESH_MODE_HEADER, http } from './api.js';

const REFRESH_KEY = 'netra.refresh_token';
const TAB_KEY = 'netra.tab';
const COOKIE_MARK = 'netra.cookie_session';
const EARLY_MS = 30_000; // an access token this close to its end is refreshed before use

export class SessionEnded extends Error {}

export class Session extends EventTarget {
  constructor() {
    super();
    this.user = null;
    this.access = null;
    this.expiresAt = 0;
    this.timer = null;
    this.inflight = null;
  }

  get signedIn() {
    return this.user !== null;
  }

  // At start-up: resume the session this tab (or the cookie) had. Resolves to true when
  // signed in; throws ApiError(0) when the server cannot be reached.
  async restore() {
    await claimTab();
    if (!readStored(REFRESH_KEY, sessionStorage) && !readStored(COOKIE_MARK, localStorage)) return false;
    try {
      await this.refresh();
      return true;
    } catch (error) {
      if (error instanceof SessionEnded) return false;
      throw error;
    }
  }

  async login(email, password) {
    this.accept(await http('POST', '/api/auth/login', {
      body: { email, password }, headers: REFRESH_MODE_HEADER,
    }));
  }

  async register(email, password, name) {
    const body = { email, password };
    if (name) body.name = name;
    this.accept(await http('POST', '/api/auth/register', { body, headers: REFRESH_MODE_HEADER }));
  }

  async logout() {
    const token = this.access;
    this.end('signed-out');
    if (token) {
      try {
        await http('POST', '/api/auth/logout', { token, headers: REFRESH_MODE_HEADER });
      } catch {
        // Signed out here either way; the server revokes the session when it can.
      }
    }
  }

  // A valid access token, refreshed first when it is about to expire.
  async accessToken() {
    if (!this.access) throw new SessionEnded('signed out');
    if (Date.now() > this.expiresAt - EARLY_MS) await this.refresh();
    return this.access;
  }

  // Rotate the tokens now. One refresh at a time in this tab (callers share it) and, with
  // Web Locks, across the tabs of this browser.
  refresh() {
    if (!this.inflight) {
      this.inflight = withLock('netra-refresh', () => this.rotate()).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  async rotate() {
    const stored = readStored(REFRESH_KEY, sessionStorage);
    // Cookie mode: the cookie carries the token; the body is empty.
    const body = stored ? { refresh_token: stored } : {};
    try {
      this.accept(await http('POST', '/api/auth/refresh', { body, headers: REFRESH_MODE_HEADER }));
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0 && error.status < 500) {
        this.end('expired');
        throw new SessionEnded(error.message);
      }
      this.schedule(10); // the server is unreachable: keep the session, try again soon
      throw error;
    }
  }

  accept(pair) {
    const wasSignedIn = this.signedIn;
    this.user = pair.user;
    this.access = pair.access_token;
    const lifetime = Math.max(10, Number(pair.expires_in) || 900);
    this.expiresAt = Date.now() + lifetime * 1000;
    if (pair.refresh_token) {
      writeStored(REFRESH_KEY, pair.refresh_token, sessionStorage);
      writeStored(COOKIE_MARK, null, localStorage);
    } else {
      writeStored(REFRESH_KEY, null, sessionStorage);
      writeStored(COOKIE_MARK, '1', localStorage);
    }
    this.schedule(Math.max(5, Math.min(lifetime * 0.8, lifetime - 60)));
    this.dispatchEvent(new CustomEvent(wasSignedIn ? 'token' : 'signed-in'));
  }

  schedule(seconds) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {});
    }, seconds * 1000);
  }

  end(reason) {
    clearTimeout(this.timer);
    const wasSignedIn = this.signedIn;
    this.user = null;
    this.access = null;
    this.expiresAt = 0;
    writeStored(REFRESH_KEY, null, sessionStorage);
    writeStored(COOKIE_MARK, null, localStorage);
    if (wasSignedIn || reason === 'expired') {
      this.dispatchEvent(new CustomEvent('signed-out', { detail: { reason } }));
    }
  }
}

function readStored(key, storage) {
  try {
    return storage.getItem(key);
  } catch {
    return null; // storage disabled: the session lasts as long as the page
  }
}

function writeStored(key, value, storage) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    // storage disabled
  }
}

function withLock(name, fn) {
  if (!navigator.locks) return fn();
  return navigator.locks.request(name, fn);
}

// Hold a Web Lock named after this tab for the tab's lifetime. A reload gets the lock back
// once the old document is gone; a duplicated tab (same sessionStorage) cannot, and starts
// as a new tab without the copied refresh token.
async function claimTab() {
  if (!navigator.locks) return;
  let id = readStored(TAB_KEY, sessionStorage);
  if (id && (await holdLock(`netra-tab-${id}`, 1500))) return;
  if (id) writeStored(REFRESH_KEY, null, sessionStorage);
  id = randomId();
  writeStored(TAB_KEY, id, sessionStorage);
  await holdLock(`netra-tab-${id}`, 1500);
}

function holdLock(name, waitMs) {
  return new Promise((resolve) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), waitMs);
    navigator.locks
      .request(name, { signal: controller.signal }, () => {
        clearTimeout(timer);
        resolve(true);
        return new Promise(() => {}); // held until the page goes away
      })
      .catch(() => resolve(false));
  });
}

function randomId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
