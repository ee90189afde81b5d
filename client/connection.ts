/**
 * Turning the `connection` option (URL, ioredis options, or a Redis instance)
 * into ioredis connections the SDK owns.
 */
import Redis, { RedisOptions } from 'ioredis';

/**
 * A URL with ioredis options beside it, e.g. a `rediss://` URL and the TLS
 * options to verify the broker with:
 * `{ url: 'rediss://broker:7380', tls: { ca, cert, key } }`.
 */
export interface UrlConnection extends RedisOptions {
  url: string;
}

/** Where the broker is: a `redis://` / `rediss://` URL, ioredis options, a URL with options, or an ioredis instance. */
export type ConnectionLike = string | RedisOptions | UrlConnection | Redis;

export const DEFAULT_URL = 'redis://127.0.0.1:7377';

/** `process.env.RESQ_URL`, else redis://127.0.0.1:7377. */
export function defaultConnection(): string {
  return process.env.RESQ_URL ?? DEFAULT_URL;
}

export function isRedis(c: unknown): c is Redis {
  return c instanceof Redis;
}

/**
 * A new connection the caller owns: from a URL or options, or a duplicate of
 * a given instance (which is never used or closed by the SDK itself).
 */
export function openConnection(connection: ConnectionLike | undefined, override: Partial<RedisOptions> = {}): Redis {
  const c = connection ?? defaultConnection();
  if (isRedis(c)) return c.duplicate(override);
  if (typeof c === 'string') return new Redis(c, override);
  if ('url' in c && typeof c.url === 'string') {
    const { url, ...options } = c;
    // what the URL says (host, port, password, rediss: = TLS) comes first, then the options
    return new Redis(url, { ...options, ...override });
  }
  return new Redis({ ...c, ...override });
}

/** quit politely, fall back to disconnect if the broker does not answer */
export async function closeConnection(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  const r: Redis = redis;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      r.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    if ((r.status as string) !== 'end') r.disconnect();
  }
}
