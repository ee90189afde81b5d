// The dashboard: a hash router, a 2 s poll of the page on screen, login (user and password) when the broker needs it.
import { ApiError, get, loggedIn, setCredentials, user } from './api.js';
import { h, render } from './dom.js';
import { overviewPage } from './pages/overview.js';
import { queuePage } from './pages/queue.js';
import { jobPage } from './pages/job.js';
import { cronPage } from './pages/cron.js';

const POLL_MS = 2000;
const main = document.getElementById('main');
const flashEl = document.getElementById('flash');
const liveEl = document.getElementById('live');
const whoEl = document.getElementById('who');

let page = null;
let timer = null;
let flashTimer = null;

/** what every page gets */
const ctx = {
  canWrite: false,
  flash(message, kind = 'ok') {
    flashEl.textContent = message;
    flashEl.className = kind;
    flashEl.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => (flashEl.hidden = true), kind === 'error' ? 8000 : 3000);
  },
  /**
   * runs an action; a refusal (no permission, bad input, a state that does not allow it) is shown, not
   * thrown. Only a 401 (no or wrong credentials) asks to log in: a 403 NOPERM is these credentials'
   * permissions, and the server's message says which.
   */
  async act(what, fn) {
    try {
      const out = await fn();
      ctx.flash(what);
      await refresh();
      return out;
    } catch (e) {
      if (isAuthError(e)) return showLogin(e.message);
      ctx.flash(`${what} refused: ${e.code ?? ''} ${e.message}`, 'error');
      // permissions may have changed under the page (ACL SETUSER): show what the user may do now
      if (e instanceof ApiError && e.status === 403) whoami().catch(() => {});
      return undefined;
    }
  },
  go(hash) {
    location.hash = hash;
  },
};

const isAuthError = (e) => e instanceof ApiError && e.status === 401;

function route() {
  const hash = location.hash.slice(1) || '/';
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'queue' && parts[1] !== undefined) return { name: 'overview', make: () => queuePage(parts[1], params, ctx) };
  if (parts[0] === 'job' && parts[1] !== undefined) return { name: 'overview', make: () => jobPage(parts[1], ctx) };
  if (parts[0] === 'cron') return { name: 'cron', make: () => cronPage(ctx) };
  return { name: 'overview', make: () => overviewPage(ctx) };
}

async function refresh() {
  if (!page) return;
  try {
    await page.refresh();
    liveEl.textContent = `updated ${new Date().toLocaleTimeString()}`;
    liveEl.classList.remove('stale');
  } catch (e) {
    if (isAuthError(e)) return showLogin(e.message);
    liveEl.textContent = `update failed: ${e.message}`;
    liveEl.classList.add('stale');
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (!document.hidden) await refresh();
    schedule();
  }, POLL_MS);
}

/** counts show() calls: a slow page load must not replace the page of a later navigation */
let shown = 0;

async function show() {
  const gen = ++shown;
  clearTimeout(timer);
  page = null;
  const r = route();
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('current', a.dataset.nav === r.name);
  try {
    const p = r.make();
    // who may do what and the page's data, in parallel: one round trip, not two
    await Promise.all([whoami(), p.refresh()]);
    if (gen !== shown) return;
    render(main, p.el);
    page = p;
    liveEl.textContent = `updated ${new Date().toLocaleTimeString()}`;
    // for bench/dashboard-bench.ts: the moment the first page is on screen (read with performance.getEntriesByName)
    if (performance.getEntriesByName('resq:rendered').length === 0) performance.mark('resq:rendered');
    schedule();
  } catch (e) {
    if (gen !== shown) return;
    if (isAuthError(e)) return showLogin(e.message);
    render(main, h('p.error', {}, e.message));
  }
}

/** asks the server what these credentials may do; the UI hides what they may not (the API refuses it anyway) */
async function whoami() {
  const me = await get('/v1/whoami');
  ctx.canWrite = me.canWrite;
  document.body.classList.toggle('readonly', !me.canWrite);
  whoEl.textContent = me.authRequired || !me.canWrite ? `${me.user}${me.canWrite ? '' : ' (read-only)'}` : '';
  whoEl.append(...(loggedIn() ? [' ', h('button.link.logout', { type: 'button', onclick: logout }, 'log out')] : []));
}

function logout() {
  setCredentials('', '');
  show();
}

function showLogin(reason) {
  clearTimeout(timer);
  page = null;
  whoEl.textContent = '';
  document.body.classList.remove('readonly');
  const name = h('input', { type: 'text', name: 'user', autocomplete: 'username', placeholder: 'default', value: user() });
  const input = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const form = h(
    'form.login',
    {
      onsubmit: (ev) => {
        ev.preventDefault();
        setCredentials(name.value.trim(), input.value);
        show();
      },
    },
    h('h1', {}, 'Log in'),
    h('p.muted', {}, loggedIn() ? `The credentials were refused (${reason}).` : 'This broker needs a password (requirepass or ACL users).'),
    h('label', {}, 'User (empty: the default user) ', name),
    h('label', {}, 'Password ', input),
    h('button', { type: 'submit' }, 'Log in'),
  );
  render(main, form);
  (user() ? input : name).focus();
}

window.addEventListener('hashchange', show);
document.addEventListener('visibilitychange', () => !document.hidden && refresh());
show();
