import type { Bytes } from '../engine/job';
import { QueueCounters, QueueState, zeroCounters } from '../engine/queue-state';

/** the label the queues beyond metrics-max-queues are summed under */
export const OTHER_QUEUES = '(other)';

/** one queue's figures as /metrics shows them: a real queue, or the sum of the queues not shown */
export interface QueueFigures {
  label: string;
  /** jobs per state, in STATE_NAMES order */
  states: number[];
  /** ready jobs per priority */
  ready: number[];
  /** 1 when paused (for the other queues: how many are paused) */
  paused: number;
  /** null for the other queues (no one max length) */
  maxlen: number | null;
  counters: QueueCounters;
  /** the queue itself; null for the other queues */
  queue: QueueState | null;
}

/**
 * Queue names are bytes; a Prometheus label value is UTF-8 text. Invalid
 * sequences become U+FFFD, and control characters (CR, LF, NUL...) are
 * written as \xNN so no label can break a line or hide text.
 */
export function labelOf(name: Bytes): string {
  return (
    Buffer.from(name, 'latin1')
      .toString('utf8')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped here
      .replace(/[\u0000-\u001f\u007f]/g, (ch) => '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0'))
  );
}

function figuresOf(q: QueueState, defaultMaxlen: number): QueueFigures {
  return {
    label: labelOf(q.name),
    states: [q.readyCount, q.scheduled.size, q.active.size, q.completed.size, q.dead.size, q.cancelled.size],
    ready: q.ready.map((l) => l.size),
    paused: q.paused ? 1 : 0,
    maxlen: q.maxlen ?? defaultMaxlen,
    counters: q.counters,
    queue: q,
  };
}

/** queues looked at between two yields of selecting() (well under a ms of work) */
const CHUNK = 2000;

/**
 * The queues /metrics shows one by one: all of them up to `max`, else the
 * `max` holding the most jobs, plus one entry summing the rest. A scrape
 * then costs the same with 20,000 queues as with 100 (one pass to sum).
 */
export function selectQueues(queues: Iterable<QueueState>, max: number, defaultMaxlen: number): QueueFigures[] {
  const it = selecting(queues, max, defaultMaxlen);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/** the work of selectQueues; each yield is a point where the caller may let the loop run */
function* selecting(queues: Iterable<QueueState>, max: number, defaultMaxlen: number): Generator<void, QueueFigures[]> {
  const all = [...queues];
  if (all.length <= max) {
    const out: QueueFigures[] = [];
    for (let i = 0; i < all.length; i++) {
      if (i > 0 && i % CHUNK === 0) yield;
      out.push(figuresOf(all[i], defaultMaxlen));
    }
    return out;
  }
  const counts = new Float64Array(all.length);
  for (let i = 0; i < all.length; i++) {
    if (i > 0 && i % CHUNK === 0) yield;
    counts[i] = all[i].jobCount;
  }
  const { shown, rest } = largest(all, counts, max);
  const out = shown.map((q) => figuresOf(q, defaultMaxlen));
  const other: QueueFigures = {
    label: OTHER_QUEUES,
    states: [0, 0, 0, 0, 0, 0],
    ready: [0, 0, 0],
    paused: 0,
    maxlen: null,
    counters: zeroCounters(),
    queue: null,
  };
  const counterKeys = Object.keys(other.counters) as Array<keyof QueueCounters>;
  for (let i = 0; i < rest.length; i++) {
    if (i % CHUNK === 0) yield;
    const q = rest[i];
    other.states[0] += q.readyCount;
    other.states[1] += q.scheduled.size;
    other.states[2] += q.active.size;
    other.states[3] += q.completed.size;
    other.states[4] += q.dead.size;
    other.states[5] += q.cancelled.size;
    for (let p = 0; p < 3; p++) other.ready[p] += q.ready[p].size;
    if (q.paused) other.paused++;
    for (const k of counterKeys) other.counters[k] += q.counters[k];
  }
  out.push(other);
  return out;
}

/**
 * The `max` queues holding the most jobs, most first (ties in the given
 * order: what a stable sort of all of them by job count would give), and the
 * others; `counts` holds each queue's jobCount. Linear but for one numeric
 * sort of the counts (a sort of the queues themselves by their jobCount getter
 * took tens of ms with 20,000 queues).
 */
function largest(all: QueueState[], counts: Float64Array, max: number): { shown: QueueState[]; rest: QueueState[] } {
  const sorted = counts.slice().sort();
  const threshold = max > 0 ? sorted[sorted.length - max] : Infinity;
  let above = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i] > threshold) above++;
  let ties = max - above;
  const shown: number[] = [];
  const rest: QueueState[] = [];
  for (let i = 0; i < all.length; i++) {
    if (counts[i] > threshold || (counts[i] === threshold && ties-- > 0)) shown.push(i);
    else rest.push(all[i]);
  }
  shown.sort((a, b) => counts[b] - counts[a] || a - b);
  return { shown: shown.map((i) => all[i]), rest };
}
