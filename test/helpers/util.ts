import { execFileSync } from 'child_process';
import { expect } from 'chai';
import Redis, { RedisOptions } from 'ioredis';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** polls cond until it is true; fails with `what` after timeoutMs */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(intervalMs);
  }
}

/** awaits a command that must fail with an error reply whose code is `code`; returns the message */
export async function expectError(p: Promise<unknown>, code: string, matches?: RegExp): Promise<string> {
  let value: unknown;
  try {
    value = await p;
  } catch (e) {
    const msg = (e as Error).message;
    expect(msg.split(' ', 1)[0], `error code of "${msg}"`).to.equal(code);
    if (matches) expect(msg).to.match(matches);
    return msg;
  }
  throw new Error(`expected a -${code} error reply, got ${JSON.stringify(value)}`);
}

/** RESP2 flat field/value array -> object */
export function fields(flat: unknown): Record<string, unknown> {
  expect(flat, 'a flat field/value array').to.be.an('array');
  const a = flat as unknown[];
  expect(a.length % 2, 'even length').to.equal(0);
  const out: Record<string, unknown> = Object.create(null);
  for (let i = 0; i < a.length; i += 2) out[String(a[i])] = a[i + 1];
  return out;
}

/** ioredis connections that are all closed by closeAll() (in an after hook) */
export class Clients {
  private readonly all: Redis[] = [];

  constructor(private readonly port: () => number) {}

  make(opts: RedisOptions = {}): Redis {
    const r = new Redis({ port: this.port(), host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, ...opts });
    r.on('error', () => {});
    this.all.push(r);
    return r;
  }

  closeAll(): void {
    for (const r of this.all.splice(0)) r.disconnect();
  }
}

/** runs a command via ioredis' generic call() */
export function cmd(r: Redis, ...args: Array<string | number | Buffer>): Promise<unknown> {
  const [name, ...rest] = args;
  return r.call(String(name), ...rest) as Promise<unknown>;
}

/**
 * One broker for a describe block: started in `before`, its connections
 * closed and the broker removed in `after`. Call inside describe().
 */
export function brokerForSuite<B extends { port: number; cleanup(): Promise<void> }>(
  start: () => Promise<B>,
): { readonly port: number; readonly clients: Clients; readonly broker: B } {
  let broker: B | null = null;
  const suite = {
    get port() {
      return broker!.port;
    },
    /** the started broker (for kill and restart) */
    get broker() {
      return broker!;
    },
    clients: new Clients(() => broker!.port),
  };
  before(async () => {
    broker = await start();
  });
  after(async () => {
    suite.clients.closeAll();
    await broker?.cleanup();
  });
  return suite;
}

/** skips the calling test (or, from a hook, its suite) where redis-cli is not installed (.ci/run installs it) */
export function skipWithoutRedisCli(ctx: Mocha.Context): void {
  try {
    execFileSync('redis-cli', ['--version']);
  } catch {
    ctx.skip();
  }
}
