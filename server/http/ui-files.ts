import * as fs from 'fs';
import type * as http from 'http';
import * as path from 'path';

/** the dashboard's files: ui/ at the package root (dist/server/http -> ../../../ui) */
export const UI_DIR = path.resolve(__dirname, '../../../ui');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page may load only its own files and talk only to this server; no
 * framing (clickjacking), no inline script. Its data comes from /v1, which
 * checks the password on every request; the files themselves hold no data.
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

interface UiFile {
  type: string;
  body: Buffer;
}

/**
 * Serves the static dashboard: read once at start (a few tens of KB), so a
 * page load is a memory copy. Only files directly known are served: the
 * request path picks a key of that table, never a filesystem path.
 */
export class UiFiles {
  private readonly files = new Map<string, UiFile>();

  constructor(dir = UI_DIR) {
    const walk = (sub: string) => {
      for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
        const rel = sub ? `${sub}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(rel);
        else if (TYPES[path.extname(entry.name)]) this.files.set(rel, { type: TYPES[path.extname(entry.name)], body: fs.readFileSync(path.join(dir, rel)) });
      }
    };
    if (fs.existsSync(dir)) walk('');
  }

  /** handles / and /ui/...; false when the path is not the dashboard's */
  serve(urlPath: string, method: string, res: http.ServerResponse): boolean {
    if (urlPath === '/' || urlPath === '/ui') {
      res.writeHead(302, { Location: '/ui/', 'Content-Length': 0 });
      res.end();
      return true;
    }
    if (!urlPath.startsWith('/ui/')) return false;
    const file = this.files.get(urlPath === '/ui/' ? 'index.html' : urlPath.slice(4));
    if (!file) return false;
    res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache', ...SECURITY_HEADERS });
    res.end(method === 'HEAD' ? undefined : file.body);
    return true;
  }
}
