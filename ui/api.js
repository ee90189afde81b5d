// The /v1 JSON API, with the credentials (when the broker needs them) on every request:
// `Basic base64(user:password)` for a named ACL user, `Bearer <password>` for the default user.

const USER_KEY = 'resq-user';
const TOKEN_KEY = 'resq-token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** the user name the tab logged in with ('' for the default user) */
export function user() {
  return sessionStorage.getItem(USER_KEY) ?? '';
}

/** whether the tab holds credentials (a password; with or without a user name) */
export function loggedIn() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

/** keeps the credentials for this tab; setCredentials('', '') (log out) forgets them */
export function setCredentials(name, password) {
  if (name) sessionStorage.setItem(USER_KEY, name);
  else sessionStorage.removeItem(USER_KEY);
  if (password || name) sessionStorage.setItem(TOKEN_KEY, password);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** base64 of the UTF-8 bytes (btoa alone takes only Latin-1 characters) */
function base64(text) {
  let binary = '';
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

function authorization() {
  if (!loggedIn()) return null;
  const password = sessionStorage.getItem(TOKEN_KEY);
  return user() ? `Basic ${base64(`${user()}:${password}`)}` : `Bearer ${password}`;
}

/** a path segment for a queue name, job id or cron name (the server decodes %XX to bytes) */
export const seg = (s) => encodeURIComponent(s);

async function request(method, path, body) {
  const headers = {};
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  // every POST says it is JSON: the server refuses other POSTs as possible cross-site requests
  if (method === 'POST') headers['Content-Type'] = 'application/json';
  // credentials 'omit': the header above is the only credential; a 401's WWW-Authenticate: Basic must not
  // make the browser open its own login dialog (the page shows its form)
  const res = await fetch(path, { method, headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body) });
  return res;
}

export async function api(method, path, body) {
  const res = await request(method, path, body);
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const e = json?.error ?? { code: String(res.status), message: res.statusText };
    throw new ApiError(res.status, e.code, e.message);
  }
  return json;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);

/** the raw bytes of a route, as a Blob (payload download: a plain link could not send the password) */
export async function blob(path) {
  const res = await request('GET', path);
  if (!res.ok) {
    const e = (res.headers.get('content-type') ?? '').startsWith('application/json') ? (await res.json())?.error : null;
    throw new ApiError(res.status, e?.code ?? String(res.status), e?.message ?? res.statusText);
  }
  return res.blob();
}
