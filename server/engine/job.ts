import { JobPolicy, jobPolicy } from './job-policy';
import { JobKind, jobKind } from './job-kind';
import { JobKey, idOfKey, jobKey } from './job-key';
import { fromEngineTime, timeBase } from './job-time';
import { payloads } from './payload-arena';

/**
 * Byte strings: JS strings whose char codes are bytes 0..255 (latin1). Ids,
 * queue names, payloads, results and errors from the wire are kept this way:
 * compact in V8 (one byte per char), binary-safe, usable as Map keys, and
 * written back to sockets and the log with the latin1 encoding.
 */
export type Bytes = string;

export const enum JobState {
  Ready = 0,
  Scheduled = 1,
  Active = 2,
  Completed = 3,
  Dead = 4,
  Cancelled = 5,
}

export const STATE_NAMES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'] as const;

export function isFinal(state: JobState): boolean {
  return state >= JobState.Completed;
}

/** 0 = high, 1 = normal, 2 = low (the index into a queue's ready lists) */
export type Priority = 0 | 1 | 2;
export const PRIORITY_NAMES = ['high', 'normal', 'low'] as const;

export function parsePriority(word: string): Priority | undefined {
  const i = (PRIORITY_NAMES as readonly string[]).indexOf(word.toLowerCase());
  return i < 0 ? undefined : (i as Priority);
}

// `place` packs state, priority and listSeq into one number, a small integer (Smi, no box)
// while listSeq < 2^26: state in 0..7, priority in steps of 8, listSeq in steps of 32.
// Arithmetic, not bit operations, so a larger listSeq stays exact (it only costs a box then).
const STATE_SPAN = 8;
const PRIORITY_SPAN = 4;
const SEQ_UNIT = STATE_SPAN * PRIORITY_SPAN;

/**
 * The fields of a job that a plain queued job (ready, ungrouped, no TTL,
 * never failed) leaves at their defaults: deliveries, updatedAt (a queued job's is its createdAt), group key and
 * group-line links, deadline-heap place, the times and owner of a delivery,
 * the outcome. A Job allocates one the first time any of them is set to
 * something else, and keeps it. Split off so a million queued jobs do not
 * carry 15 unused fields each (perf-step-10.md, perf-step-13-group-links.md);
 * the accessors on Job say what each field means.
 */
class JobExtra {
  deliveries = 0;
  constructor(
    /** the job's updatedAt (engine ms) */
    public updated: number,
  ) {}
  group: Bytes = '';
  gprev: Job | null = null;
  gnext: Job | null = null;
  heapIndex = -1;
  deadline = 0;
  runAt = 0;
  leaseUntil = 0;
  deliveryLease = 0;
  owner = 0;
  finishedAt = 0;
  expiresAt = 0;
  lastError: Bytes | null = null;
  result: Bytes | null = null;
}

/**
 * One job. A plain class with fixed fields so V8 gives every job the same
 * compact shape; no closures or timers per job. The list links make every
 * move between states O(1) without extra allocations.
 *
 * Memory: a million queued jobs are a million of these, so a job keeps only
 * the 8 fields every job needs (V8 here has no pointer compression: 8 bytes
 * each, plus 24 of header). What only scheduled, active, finished, grouped
 * or TTL jobs need is in a JobExtra allocated the first time one of those
 * fields gets a value other than its default (JobExtra below). The accessors
 * below keep the one-field-per-fact view for the rest of the broker.
 * perf-step-10.md and perf-step-13-group-links.md have the measurements.
 */
export class Job {
  // links: a job sits in at most one JobList (its state's list)
  prev: Job | null = null;
  next: Job | null = null;
  /** state, priority and listSeq (see SEQ_UNIT) */
  private place: number;
  /** the id: a number for decimal ids such as the server makes, so none of those needs a string of its own (job-key.ts) */
  readonly key: JobKey;
  /** queue and policy, shared between jobs (job-kind.ts) */
  readonly kind: JobKind;
  /** the payload: a ref into the payload arena, or the string itself when empty or large (payload-arena.ts) */
  private body: number | Bytes;
  /** createdAt, as an engine-time offset that is a Smi (job-time.ts) */
  private created: number;
  /** null until a field kept there is set (JobExtra below) */
  private extra: JobExtra | null = null;

  constructor(
    id: Bytes | JobKey,
    queue: Bytes,
    /** the bytes, or what payloads.storeBytes returned for them */
    payload: Bytes | number,
    priority: Priority,
    createdAt: number,
    retries: number,
    backoffBase: number,
    backoffMax: number,
    lease: number,
    /** TTL deadline (engine clock ms), 0 = none; REQUEUE clears it */
    expiresAt: number,
  ) {
    this.place = JobState.Ready + priority * STATE_SPAN;
    this.key = typeof id === 'number' ? id : jobKey(id);
    this.kind = jobKind(queue, jobPolicy(retries, backoffBase, backoffMax, lease));
    this.body = typeof payload === 'number' ? payload : payloads.storeString(payload);
    let base = timeBase();
    if (base !== base) base = timeBase(createdAt);
    this.created = createdAt - base; // toEngineTime inline: see timeBase
    if (expiresAt !== 0) this.more().expiresAt = expiresAt;
  }

  /** the JobExtra, made on first use */
  private more(): JobExtra {
    return this.extra ?? (this.extra = new JobExtra(this.createdAt));
  }

  get id(): Bytes {
    return idOfKey(this.key);
  }

  /** a new string each time it is read from the arena: read it once per use */
  get payload(): Bytes {
    return typeof this.body === 'number' ? payloads.read(this.body) : this.body;
  }
  get payloadSize(): number {
    return typeof this.body === 'number' ? payloads.size(this.body) : this.body.length;
  }
  /** the first n bytes, without reading the rest */
  payloadHead(n: number): Bytes {
    return typeof this.body === 'number' ? payloads.head(this.body, n) : this.body.slice(0, n);
  }
  /** the bytes: a view into the arena, to be copied at once (the slot is reused once the job is dropped) */
  payloadBytes(): Buffer {
    return typeof this.body === 'number' ? payloads.view(this.body) : Buffer.from(this.body, 'latin1');
  }
  /** the store drops the job: its arena slot goes back for reuse, and the job reads as empty from now on */
  releasePayload(): void {
    if (typeof this.body === 'number') payloads.free(this.body);
    this.body = '';
  }

  get queue(): Bytes {
    return this.kind.queue;
  }
  /** retries, backoff and lease, shared between jobs (see job-policy.ts) */
  get policy(): JobPolicy {
    return this.kind.policy;
  }

  get state(): JobState {
    return this.place % STATE_SPAN;
  }
  set state(s: JobState) {
    this.place += s - (this.place % STATE_SPAN);
  }

  get priority(): Priority {
    return (Math.floor(this.place / STATE_SPAN) % PRIORITY_SPAN) as Priority;
  }

  /**
   * Position in its state list: set by JobList.push from the list's own
   * counter, so it grows along the list. JOBS pages by it. Runtime only:
   * never persisted (a load rebuilds the lists in order, which renumbers).
   */
  get listSeq(): number {
    return Math.floor(this.place / SEQ_UNIT);
  }
  set listSeq(n: number) {
    this.place = (this.place % SEQ_UNIT) + n * SEQ_UNIT;
  }

  get createdAt(): number {
    return fromEngineTime(this.created);
  }

  // ---- kept in the JobExtra; a default value needs none --------------------------------

  /** when it last changed state (or was touched); a job's createdAt until then */
  get updatedAt(): number {
    return this.extra === null ? this.createdAt : this.extra.updated;
  }
  set updatedAt(t: number) {
    if (this.extra !== null) this.extra.updated = t;
    else if (t !== this.createdAt) this.more().updated = t;
  }

  get deliveries(): number {
    return this.extra === null ? 0 : this.extra.deliveries;
  }
  set deliveries(n: number) {
    if (n !== 0 || this.extra !== null) this.more().deliveries = n;
  }

  /** re-deliveries allowed after failures */
  get retries(): number {
    return this.policy.retries;
  }
  get backoffBase(): number {
    return this.policy.backoffBase;
  }
  get backoffMax(): number {
    return this.policy.backoffMax;
  }
  /** visibility timeout of a delivery, ms */
  get lease(): number {
    return this.policy.lease;
  }

  /** ENQUEUE ... GROUP key; '' = no group */
  get group(): Bytes {
    return this.extra === null ? '' : this.extra.group;
  }
  set group(g: Bytes) {
    if (g !== '' || this.extra !== null) this.more().group = g;
  }

  /**
   * links in its group's ready line (GroupLine in group-state.ts) while ready
   * and grouped; an ungrouped job has none: its queue's ready list orders the
   * ungrouped jobs (ungrouped-line.ts)
   */
  get gprev(): Job | null {
    return this.extra === null ? null : this.extra.gprev;
  }
  set gprev(j: Job | null) {
    if (j !== null || this.extra !== null) this.more().gprev = j;
  }
  get gnext(): Job | null {
    return this.extra === null ? null : this.extra.gnext;
  }
  set gnext(j: Job | null) {
    if (j !== null || this.extra !== null) this.more().gnext = j;
  }

  /** its place in the deadline heap, -1 = not in it */
  get heapIndex(): number {
    return this.extra === null ? -1 : this.extra.heapIndex;
  }
  set heapIndex(i: number) {
    if (i !== -1 || this.extra !== null) this.more().heapIndex = i;
  }
  /** when the heap should look at this job next (engine clock ms) */
  get deadline(): number {
    return this.extra === null ? 0 : this.extra.deadline;
  }
  set deadline(t: number) {
    if (t !== 0 || this.extra !== null) this.more().deadline = t;
  }

  /** scheduled: when it becomes ready; 0 otherwise */
  get runAt(): number {
    return this.extra === null ? 0 : this.extra.runAt;
  }
  set runAt(t: number) {
    if (t !== 0 || this.extra !== null) this.more().runAt = t;
  }
  /** active: lease deadline; 0 otherwise */
  get leaseUntil(): number {
    return this.extra === null ? 0 : this.extra.leaseUntil;
  }
  set leaseUntil(t: number) {
    if (t !== 0 || this.extra !== null) this.more().leaseUntil = t;
  }
  /** active: the lease length of this delivery (CLAIM LEASE, else the job's) */
  get deliveryLease(): number {
    return this.extra === null ? 0 : this.extra.deliveryLease;
  }
  set deliveryLease(ms: number) {
    if (ms !== 0 || this.extra !== null) this.more().deliveryLease = ms;
  }
  /** active: connection that claimed it (not persisted) */
  get owner(): number {
    return this.extra === null ? 0 : this.extra.owner;
  }
  set owner(o: number) {
    if (o !== 0 || this.extra !== null) this.more().owner = o;
  }
  /** final states: when retention removes it */
  get finishedAt(): number {
    return this.extra === null ? 0 : this.extra.finishedAt;
  }
  set finishedAt(t: number) {
    if (t !== 0 || this.extra !== null) this.more().finishedAt = t;
  }
  /** TTL deadline (engine clock ms), 0 = none; REQUEUE clears it */
  get expiresAt(): number {
    return this.extra === null ? 0 : this.extra.expiresAt;
  }
  set expiresAt(t: number) {
    if (t !== 0 || this.extra !== null) this.more().expiresAt = t;
  }
  get lastError(): Bytes | null {
    return this.extra === null ? null : this.extra.lastError;
  }
  set lastError(e: Bytes | null) {
    if (e !== null || this.extra !== null) this.more().lastError = e;
  }
  get result(): Bytes | null {
    return this.extra === null ? null : this.extra.result;
  }
  set result(r: Bytes | null) {
    if (r !== null || this.extra !== null) this.more().result = r;
  }
}
