import { EventEmitter } from 'events';

/** An event name -> listener signature map, e.g. `{ completed: (job: Job) => void }`. */
export type EventMap<E> = { [K in keyof E]: (...args: never[]) => void };

/** Node's EventEmitter takes an event name -> argument tuple map. */
export type ArgsMap<E extends EventMap<E>> = { [K in keyof E]: Parameters<E[K]> };

/**
 * EventEmitter whose `on`/`once`/`off`/`emit` are typed by the events of E
 * (through @types/node's generic EventEmitter).
 *
 * `error` is special in Node: emitting it with no listener throws. The SDK
 * must never crash its host because of a broker hiccup, so `emitError`
 * reports to stderr instead when nobody listens.
 */
export class TypedEmitter<E extends EventMap<E>> extends EventEmitter<ArgsMap<E>> {
  /** emit 'error' if someone listens, else write it to stderr */
  protected emitError(err: Error): void {
    const self = this as unknown as EventEmitter;
    if (self.listenerCount('error') > 0) self.emit('error', err);
    else console.error(`[resq] ${err.name}: ${err.message}`);
  }
}
