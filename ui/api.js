// The /v1 JSON API, with the password (when the broker has one) as a Bearer token on every request.

const TOKEN_KEY = 'resq-token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** a path segment for a queue name, job id or cron name (the server decodes %XX to bytes) */
export const seg = (s) => encodeURIComponent(s);

async function request(method, path, body) {
  const headers = {};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  // every POST says it is JSON: the server refuses other POSTs as possible cross-site requests
  if (method === 'POST') headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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
  if (!res.ok) throw new ApiError(res.status, String(res.status), res.statusText);
  return res.blob();
}
