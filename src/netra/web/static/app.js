// Netra Apex in the browser: wires the session, the API, the WebSocket and the views, and
// routes `#/` (a new thread) and `#/threads/{id}`.

import { Api } from './api.js';
import { AuthView } from './auth-view.js';
import { Conversation } from './conversation.js';
import { DataPanel } from './data-panel.js';
import { $ } from './dom.js';
import { RunStore, TERMINAL } from './runs.js';
import { Session } from './session.js';
import { Socket } from './socket.js';
import { ThreadList } from './thread-list.js';

const session = new Session();
const api = new Api(session);
const store = new RunStore();
const socket = new Socket({ session, store });

const auth = new AuthView({ root: $('#auth-view'), session });
const data = new DataPanel({ root: $('#data-panel'), api });
const threads = new ThreadList({ root: $('#thread-list'), api, store });
const conversation = new Conversation({
  root: $('#conversation'), form: $('#composer'), api, socket, store, data, threads,
});

const appView = $('#app-view');
const account = $('#account');
const menuToggle = $('#menu-toggle');
const sidebar = $('#sidebar');

// --- session -------------------------------------------------------------------------

session.addEventListener('signed-in', enter);
session.addEventListener('signed-out', (event) => leave(event.detail.reason));
session.addEventListener('token', () => socket.renew());

$('#sign-out').addEventListener('click', () => session.logout());

function enter() {
  $('#boot').hidden = true;
  auth.hide();
  appView.hidden = false;
  account.hidden = false;
  menuToggle.hidden = false;
  $('#account-name').textContent = session.user.name || session.user.email;
  $('#account-name').title = session.user.email;
  socket.start();
  data.load();
  threads.load();
  route();
}

function leave(reason) {
  socket.stop();
  store.clear();
  conversation.reset();
  data.reset();
  threads.reset();
  appView.hidden = true;
  account.hidden = true;
  menuToggle.hidden = true;
  $('#boot').hidden = true;
  // After a sign-out the next user starts on a new thread; after an expiry, where they were.
  if (reason === 'signed-out') window.history.replaceState(null, '', '#/');
  auth.show(reason === 'expired' ? 'Your session has ended. Sign in again to continue.' : 'You are signed out.');
}

// --- routing -------------------------------------------------------------------------

function route() {
  if (!session.signedIn) return;
  if (sidebar.classList.contains('open')) {
    closeMenu();
    $('#main').focus(); // the link that was followed is now hidden in the closed drawer
  }
  const match = window.location.hash.match(/^#\/threads\/([^/?#]+)/);
  if (match) conversation.open(decodeURIComponent(match[1]));
  else conversation.openNew();
}

window.addEventListener('hashchange', route);

// --- live events ---------------------------------------------------------------------

store.listen((run, event) => {
  conversation.onEvent(run, event);
  if (event.type === 'run_started' && !threads.has(run.threadId)) threads.reloadSoon();
  else if (event.type === 'run_started') threads.render();
  else if (TERMINAL.has(event.type)) {
    threads.render();
    threads.reloadSoon();
  }
});
socket.addEventListener('message', (event) => conversation.onSocketMessage(event.detail));

// --- connection state ----------------------------------------------------------------

const badge = $('#connection');
const badgeText = $('.connection-text', badge);
const retry = $('.connection-retry', badge);
let countdown = null;
retry.addEventListener('click', () => socket.reconnectNow());

socket.addEventListener('state', (event) => {
  const { state, retryAt } = event.detail;
  badge.hidden = state === 'idle';
  badge.dataset.state = state;
  clearInterval(countdown);
  retry.hidden = state !== 'reconnecting' && state !== 'offline';
  const show = () => {
    const texts = {
      connecting: 'Connecting…',
      open: 'Live',
      offline: 'Offline: waiting for the network',
      reconnecting: `Reconnecting${retryAt > Date.now() ? ` in ${Math.ceil((retryAt - Date.now()) / 1000)} s` : '…'}`,
    };
    badgeText.textContent = texts[state] || '';
  };
  show();
  if (state === 'reconnecting') countdown = setInterval(show, 1000);
});

// --- narrow screens: the sidebar is a drawer -----------------------------------------

function closeMenu() {
  sidebar.classList.remove('open');
  menuToggle.setAttribute('aria-expanded', 'false');
}

menuToggle.addEventListener('click', () => {
  const open = !sidebar.classList.contains('open');
  sidebar.classList.toggle('open', open);
  menuToggle.setAttribute('aria-expanded', String(open));
  if (open) sidebar.querySelector('button, a, select')?.focus();
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && sidebar.classList.contains('open')) {
    closeMenu();
    menuToggle.focus();
  }
});

// --- start ---------------------------------------------------------------------------

async function boot() {
  try {
    if (await session.restore()) return; // 'signed-in' has shown the app
  } catch {
    $('#boot').hidden = true;
    auth.show('The server cannot be reached right now. Reload the page to try again.');
    return;
  }
  $('#boot').hidden = true;
  if (!session.signedIn && auth.root.hidden) auth.show();
}

boot();
