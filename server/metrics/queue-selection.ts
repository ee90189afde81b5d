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

/**
 * The queues /metrics shows one by one: all of them up to `max`, else the
 * `max` holding the most jobs, plus one entry summing the rest. A scrape
 * then costs the same with 20,000 queues as with 100 (one pass to sum).
 */
export function selectQueues(queues: Iterable<QueueState>, max: number, defaultMaxlen: number): QueueFigures[] {
  const all = [...queues];
  if (all.length <= max) return all.map((q) => figuresOf(q, defaultMaxlen));
  all.sort((a, b) => b.jobCount - a.jobCount);
  const out = all.slice(0, max).map((q) => figuresOf(q, defaultMaxlen));
  const other: QueueFigures = {
    label: OTHER_QUEUES,
    states: [0, 0, 0, 0, 0, 0],
    ready: [0, 0, 0],
    paused: 0,
    maxlen: null,
    counters: zeroCounters(),
    queue: null,
  };
  for (let i = max; i < all.length; i++) {
    const q = all[i];
    other.states[0] += q.readyCount;
    other.states[1] += q.scheduled.size;
    other.states[2] += q.active.size;
    other.states[3] += q.completed.size;
    other.states[4] += q.dead.size;
    other.states[5] += q.cancelled.size;
    for (let p = 0; p < 3; p++) other.ready[p] += q.ready[p].size;
    if (q.paused) other.paused++;
    for (const k of Object.keys(other.counters) as Array<keyof QueueCounters>) other.counters[k] += q.counters[k];
  }
  out.push(other);
  return out;
}
