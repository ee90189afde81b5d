/** Helpers of the SDK tests (test/client-*.test.ts). */
import { EventEmitter } from 'events';
import { startBroker, BrokerProcess, StartOptions } from './broker';

/** settings every SDK test broker gets: no HTTP listener (ports would clash), quiet log */
export const SDK_BROKER_DEFAULTS: Record<string, string> = { 'http-port': '0', 'log-level': 'warn' };

export async function startSdkBroker(settings: Record<string, string> = {}, opts: StartOptions = {}): Promise<BrokerProcess> {
  return startBroker({ ...SDK_BROKER_DEFAULTS, ...settings }, opts);
}

export function brokerUrl(b: BrokerProcess): string {
  return `redis://127.0.0.1:${b.port}`;
}

/** polls fn until it returns a truthy value (or resolves to one); rejects after timeoutMs */
export async function until<X>(fn: () => X | Promise<X>, timeoutMs = 5000, what = 'condition', intervalMs = 10): Promise<X> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** resolves with the arguments of the next `event`; rejects after timeoutMs */
export function nextEvent<A extends unknown[] = unknown[]>(em: EventEmitter, event: string, timeoutMs = 5000): Promise<A> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      em.off(event, on);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    function on(...args: unknown[]) {
      clearTimeout(t);
      resolve(args as A);
    }
    em.once(event, on);
  });
}

/** a promise with its resolver outside, to hold a handler until the test lets it go */
export function gate<X = void>(): { promise: Promise<X>; open: (v: X) => void } {
  let open!: (v: X) => void;
  const promise = new Promise<X>((r) => {
    open = r;
  });
  return { promise, open };
}

let seq = 0;
/** a queue name unique within the run */
export function qname(prefix = 'q'): string {
  return `${prefix}-${process.pid}-${++seq}`;
}
