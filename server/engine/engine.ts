import { EnqueueOptions } from './enqueue-options';
import { Bytes, Job, JobState, STATE_NAMES, isFinal } from './job';

export type { EnqueueOptions };
import { JobStore, RetentionPolicy } from './job-store';
import { QueueState, zeroCounters } from './queue-state';
import { CronSetRecord, LogRecord, PurgeWhat } from './records';
import { applyRecord, purgeLists } from './apply-record';
import { pickPriority } from './priority-picker';
import { backoffDelay } from './backoff';
import { EngineError, noJob, notActive, stale } from './engine-errors';
import { WaitList } from './wait-list';
import { JobPage, ListOrder, ListPosition, listJobs } from './job-listing';
import { GroupLimits, NO_LIMITS, RateLimit, UNGROUPED, noLimits } from './flow-limits';
import { GroupState } from './group-state';
import { limitsOf, refreshGroup } from './group-book';
import { MinHeap } from './min-heap';
import { TokenBucket } from './token-bucket';
import { peekInTurn } from './claim-order';
import { ArenaStats, payloads } from './payload-arena';

/** Where records go once applied: the append-only log, or nowhere in memory-only tests. */
export interface Journal {
  append(rec: LogRecord): void;
}

/** Engine time: unix ms that only moves forward (the composition root passes a monotonic one). */
export interface Clock {
  now(): number;
}

export interface EngineConfig {
  defaultRetries: number;
  defaultBackoff: number;
  defaultBackoffMax: number;
  backoffJitter: number;
  defaultLease: number;
  defaultMaxlen: number;
  requeueOnDisconnect: boolean;
  priorityWeights: readonly number[];
}

export interface ClaimRequest {
  count: number;
  lease?: number;
  owner: number;
}

/** the settings QCONFIG changes; absent fields keep their value */
export interface QueueSettingsPatch {
  paused?: boolean;
  maxlen?: number | null;
  concurrency?: number | null;
  rate?: RateLimit | null;
  groupDefaults?: GroupLimits;
}

/** a pending wake-up: a queue's or a group's next token, or an idle group's full bucket */
interface Wake {
  at: number;
  queue: QueueState;
  group: GroupState | null;
}

export type NackOutcome = 'ready' | 'scheduled' | 'dead';

export interface NackOptions {
  delay?: number;
  error?: Bytes;
  noRetry?: boolean;
  delivery?: number;
}

/**
 * Optional observer of live traffic (server/metrics): called on the
 * live path only, never during start-up replay. Plain calls with numbers, so
 * an implementation needs no per-job bookkeeping on the common path. Times
 * are engine clock ms. While a job is active its updatedAt is the claim time
 * until a TOUCH moves it, hence touching().
 */
export interface EngineMetrics {
  /** a job is handed to a worker; waitMs = time since it became ready (enqueue, promotion, retry) */
  claimed(job: Job, waitMs: number): void;
  /** before a TOUCH of an active job is applied: job.updatedAt is still its claim time or its last touch */
  touching(job: Job): void;
  /** an active job was acknowledged at `at`; activeSince = its updatedAt before the ACK (claim time, or last TOUCH) */
  acked(job: Job, activeSince: number, at: number): void;
}

/** Handle to cancel a parked (blocked) request: on timeout or when its connection closes. */
export type Cancel = () => void;

/** What the engine is built with: it reads no clock, draws no random number and arms no timer of its own. */
export interface EngineDeps {
  config: EngineConfig;
  retention: RetentionPolicy;
  journal: Journal;
  clock: Clock;
  /** a number in [0, 1) for backoff jitter */
  random: () => number;
  metrics?: EngineMetrics | null;
  /**
   * Told the earliest deadline (engine ms, Infinity = none) after every
   * change; the owner of the timer calls tick(now) when it is due.
   */
  onNextDeadline?: (at: number) => void;
}

/** deadlines handled per tick: 1,000 promotions or removals take 1-3 ms here (10,000 held the loop 10-25 ms); the timer re-arms at once for the rest */
const TICK_BATCH = 1_000;

/**
 * The job engine: validates a command against the state, turns it into
 * records, applies them (applyRecord) and journals them; serves blocked
 * claimers, blocked producers and WAITJOB waiters; and processes due
 * deadlines when its owner calls tick(now). Handlers call only this API.
 */
export class Engine {
  readonly store: JobStore;
  private readonly claimWaiters = new Map<Bytes, WaitList<{ req: ClaimRequest; deliver: (jobs: Job[]) => void }>>();
  private readonly enqueueWaiters = new Map<Bytes, WaitList<() => boolean>>();
  private readonly jobWaiters = new Map<Bytes, WaitList<(job: Job | null) => void>>();
  /**
   * Queues that got ready jobs / room since the last settle, in that order, each once (its
   * QueueState flag says it is listed). Arrays and flags, not Sets: every ENQUEUE and ACK
   * adds and removes one, and a Set's add-delete-iterate allocates and can fall off V8's fast path.
   */
  private readonly readied: QueueState[] = [];
  private readonly roomy: QueueState[] = [];
  private readonly wakes = new MinHeap<Wake>();
  /** when this process loaded its state, and until when a group bucket made now starts as if empty then (see newBucket) */
  private loadedAt = -Infinity;
  private emptyBucketsUntil = -Infinity;
  private settling = false;
  private config: EngineConfig;
  private readonly journal: Journal;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly metrics: EngineMetrics | null;
  private readonly onNextDeadline: (at: number) => void;

  constructor(deps: EngineDeps) {
    this.config = deps.config;
    this.journal = deps.journal;
    this.clock = deps.clock;
    this.random = deps.random;
    this.metrics = deps.metrics ?? null;
    this.onNextDeadline = deps.onNextDeadline ?? (() => {});
    this.store = new JobStore(deps.retention);
    this.store.observers.push({
      readied: (q) => {
        if (q.settleReady) return;
        q.settleReady = true;
        this.readied.push(q);
      },
      roomFreed: (q) => {
        if (q.settleRoom) return;
        q.settleRoom = true;
        this.roomy.push(q);
      },
      finished: (job) => this.notifyJobWaiters(job, job),
      dropped: (job) => this.notifyJobWaiters(job, null),
      groupIdle: (q, g) => this.wakeAt(q, g, g.bucket!.fullAt(this.now())),
    });
  }

  now(): number {
    return this.clock.now();
  }

  /** CONFIG SET of an engine setting: applies to the next command */
  reconfigure(config: EngineConfig, retention: RetentionPolicy): void {
    this.config = config;
    this.store.retention = retention;
  }

  get settings(): Readonly<EngineConfig> {
    return this.config;
  }

  /** applies and journals one record: the only way live state changes */
  private commit(rec: LogRecord): void {
    applyRecord(this.store, rec);
    this.journal.append(rec);
  }

  // ---- jobs -------------------------------------------------------------

  /** returns the id; throws FULL when the queue is at its max length */
  enqueue(queue: Bytes, payload: Bytes, o: EnqueueOptions): Bytes {
    if (o.id !== undefined && this.store.jobs.has(o.id)) return o.id;
    const group = o.group ?? UNGROUPED;
    if (this.isFull(queue, group))
      throw new EngineError('FULL', group === UNGROUPED || !this.groupIsFull(queue, group) ? 'queue is at its max length' : 'group is at its max length');
    const at = this.now();
    let seq = 0;
    let id = o.id;
    if (id === undefined) {
      do id = String((seq = this.store.nextSeq++));
      while (this.store.jobs.has(id));
    }
    const c = this.config;
    const runAt = o.at !== undefined ? (o.at > at ? o.at : 0) : o.delay ? at + o.delay : 0;
    this.commit({
      type: 'enqueue',
      at,
      id,
      seq,
      queue,
      payload,
      priority: o.priority ?? 1,
      runAt,
      retries: o.retries ?? c.defaultRetries,
      backoffBase: o.backoffBase ?? c.defaultBackoff,
      backoffMax: o.backoffMax ?? Math.max(c.defaultBackoffMax, o.backoffBase ?? 0),
      lease: o.lease ?? c.defaultLease,
      expiresAt: o.ttl ? at + o.ttl : 0,
      group,
    });
    this.settle();
    return id;
  }

  /** the queue (or the job's group) is at its max length */
  isFull(queue: Bytes, group: Bytes = UNGROUPED): boolean {
    const q = this.store.queues.get(queue);
    const max = q?.maxlen ?? this.config.defaultMaxlen;
    return (max > 0 && (q?.backlog ?? 0) >= max) || (group !== UNGROUPED && this.groupIsFull(queue, group));
  }

  private groupIsFull(queue: Bytes, group: Bytes): boolean {
    const q = this.store.queues.get(queue);
    if (!q) return false;
    const max = (q.groups.get(group)?.limits ?? limitsOf(q, group)).maxlen;
    return max !== null && (q.groups.get(group)?.backlog ?? 0) >= max;
  }

  /**
   * ENQUEUE ... BLOCK on a full queue: `attempt` runs again each time the
   * queue gets room, in arrival order, until it returns true.
   */
  waitForRoom(queue: Bytes, attempt: () => boolean): Cancel {
    return this.park(this.enqueueWaiters, queue, attempt);
  }

  claim(queue: Bytes, req: ClaimRequest): Job[] {
    const jobs = this.claimNow(queue, req);
    this.settle();
    return jobs;
  }

  private claimNow(queue: Bytes, req: ClaimRequest): Job[] {
    const q = this.store.queues.get(queue);
    const out: Job[] = [];
    if (!q || q.paused) return out;
    const nonEmpty = [false, false, false];
    const at = this.now(); // one clock read per CLAIM: its jobs share a claim time
    const count = Math.min(req.count, this.queueAllowance(q, at));
    const weights = this.config.priorityWeights;
    while (out.length < count) {
      this.dropTokenless(q, at);
      for (let p = 0; p < 3; p++) nonEmpty[p] = q.rings[p].size > 0;
      const p = pickPriority(q.credit, weights, nonEmpty);
      if (p === -1) break;
      const ring = q.rings[p];
      const g = ring.first!;
      const job = g.ready[p].head!;
      const lease = req.lease ?? job.lease;
      this.metrics?.claimed(job, at - job.updatedAt); // updatedAt = when it became ready
      this.commit({ type: 'claim', at, id: job.id, leaseUntil: at + lease, deliveryLease: lease });
      this.store.setOwner(job, req.owner);
      out.push(job);
      q.bucket?.take(at);
      if (g.key !== UNGROUPED) this.takeGroupToken(q, g, at);
      // the group's turn is over: to the back of the rotation, if it is still in it
      const node = g.ringNodes[p];
      if (node !== null && node.linked && ring.size > 1) ring.relink(node);
    }
    if (out.length < req.count) this.wakeForToken(q, at);
    return out;
  }

  /** how many jobs the queue-wide limits let a CLAIM take now: free concurrency slots, whole tokens */
  private queueAllowance(q: QueueState, at: number): number {
    let n = q.concurrency === null ? Infinity : q.concurrency - q.active.size;
    if (q.rate !== null) {
      q.bucket ??= new TokenBucket(q.rate.rate, q.rate.per, at);
      n = Math.min(n, Math.floor(q.bucket.available(at)));
    }
    return n;
  }

  /** out of tokens with jobs to hand out: blocked claims are served again when the next token is there */
  private wakeForToken(q: QueueState, at: number): void {
    if (q.bucket !== null && q.rate !== null && q.claimable && q.bucket.available(at) < 1) this.wakeAt(q, null, q.bucket.nextTokenAt(at));
  }

  /**
   * A group's first bucket: full, except within a window after a restart:
   * then it is as if it had been empty at the restart, like the buckets of
   * the groups loaded with jobs (a group drained just before the restart is
   * not known after it, and must not get a second burst).
   */
  private newBucket(rate: RateLimit, at: number): TokenBucket {
    if (at < this.emptyBucketsUntil && at - this.loadedAt < rate.per) return new TokenBucket(rate.rate, rate.per, this.loadedAt, false);
    return new TokenBucket(rate.rate, rate.per, at);
  }

  /** within the window after a restart: a group first seen since, at the front of a rotation without a whole token, leaves it until its next token */
  private dropTokenless(q: QueueState, at: number): void {
    if (at >= this.emptyBucketsUntil) return;
    for (let p = 0; p < 3; p++) {
      for (let g = q.rings[p].first; g !== undefined && g.bucket === null && g.key !== UNGROUPED; g = q.rings[p].first) {
        const rate = g.limits.rate;
        if (rate === null) break;
        g.bucket = this.newBucket(rate, at);
        if (g.bucket.available(at) >= 1) break;
        this.blockUntilToken(q, g, at);
      }
    }
  }

  private takeGroupToken(q: QueueState, g: GroupState, at: number): void {
    const rate = g.limits.rate;
    if (rate === null) return;
    g.bucket ??= this.newBucket(rate, at);
    g.bucket.take(at);
    if (g.bucket.available(at) < 1) this.blockUntilToken(q, g, at);
  }

  /** a group without a whole token leaves every rotation until the engine's wake-up at its next token */
  private blockUntilToken(q: QueueState, g: GroupState, at: number): void {
    g.tokenBlocked = true;
    refreshGroup(q, g);
    this.wakeAt(q, g, g.bucket!.nextTokenAt(at));
  }

  /** asks tick() to look at a queue's or a group's bucket at `at` (one pending wake-up each; an earlier one replaces it) */
  private wakeAt(q: QueueState, g: GroupState | null, at: number): void {
    const holder = g ?? q;
    if (holder.wakeAt !== 0 && holder.wakeAt <= at) return;
    holder.wakeAt = at;
    this.wakes.push(at, { at, queue: q, group: g });
  }

  private onWake(w: Wake, now: number): void {
    const holder = w.group ?? w.queue;
    if (holder.wakeAt !== w.at) return; // replaced by an earlier one, or already handled
    holder.wakeAt = 0;
    const q = w.queue;
    if (this.store.queues.get(q.name) !== q) return; // the queue was forgotten meanwhile
    const g = w.group;
    if (g === null) {
      if (q.claimable) this.store.readied(q);
      return;
    }
    if (q.groups.get(g.key) !== g || g.bucket === null) return;
    if (g.tokenBlocked) {
      if (g.bucket.available(now) < 1) return this.wakeAt(q, g, g.bucket.nextTokenAt(now));
      g.tokenBlocked = false;
      if (refreshGroup(q, g)) this.store.readied(q);
    }
    if (g.backlog === 0) {
      // idle: once its bucket is full it is the same as a new group, so it can go
      if (g.bucket.fullAt(now) > now) return this.wakeAt(q, g, g.bucket.fullAt(now));
      q.groups.delete(g.key);
    }
  }

  /** CLAIM ... BLOCK with nothing ready: parks the request; the longest waiter is served first */
  waitForJobs(queue: Bytes, req: ClaimRequest, deliver: (jobs: Job[]) => void): Cancel {
    return this.park(this.claimWaiters, queue, { req, deliver });
  }

  ack(id: Bytes, result: Bytes | null, delivery?: number): 0 | 1 {
    const job = this.get(id);
    if (job.state === JobState.Completed) return 0;
    this.checkActive(job, delivery);
    const at = this.now();
    const activeSince = job.updatedAt;
    this.commit({ type: 'ack', at, id, result });
    this.metrics?.acked(job, activeSince, at);
    this.settle();
    return 1;
  }

  nack(id: Bytes, o: NackOptions): NackOutcome {
    const job = this.get(id);
    this.checkActive(job, o.delivery);
    const at = this.now();
    const retriesLeft = job.deliveries < job.retries + 1;
    let to: JobState.Ready | JobState.Scheduled | JobState.Dead = JobState.Dead;
    let runAt = 0;
    if (retriesLeft && !o.noRetry) {
      const delay = o.delay ?? backoffDelay(job.deliveries, job.backoffBase, job.backoffMax, this.config.backoffJitter, this.random());
      to = delay > 0 ? JobState.Scheduled : JobState.Ready;
      runAt = delay > 0 ? at + delay : 0;
    }
    this.commit({ type: 'nack', at, id, to, runAt, error: o.error ?? null });
    this.settle();
    return STATE_NAMES[to] as NackOutcome;
  }

  /** returns the new lease deadline */
  touch(id: Bytes, lease?: number, delivery?: number): number {
    const job = this.get(id);
    this.checkActive(job, delivery);
    const at = this.now();
    const leaseUntil = at + (lease ?? job.deliveryLease);
    this.metrics?.touching(job);
    this.commit({ type: 'touch', at, id, leaseUntil });
    this.announceDeadline();
    return leaseUntil;
  }

  cancel(id: Bytes): 0 | 1 {
    const job = this.get(id);
    if (job.state !== JobState.Ready && job.state !== JobState.Scheduled) return 0;
    this.commit({ type: 'cancel', at: this.now(), id });
    this.settle();
    return 1;
  }

  /** PROMOTE: a scheduled job becomes ready now; 0 if it is in another state */
  promote(id: Bytes): 0 | 1 {
    const job = this.get(id);
    if (job.state !== JobState.Scheduled) return 0;
    this.commit({ type: 'promote', at: this.now(), id });
    this.settle();
    return 1;
  }

  status(id: Bytes): Job | undefined {
    return this.store.jobs.get(id);
  }

  /** WAITJOB: calls back at once (job or null) when the job is final or unknown; else parks */
  waitForJob(id: Bytes, deliver: (job: Job | null) => void): Cancel | null {
    const job = this.store.jobs.get(id);
    if (!job || isFinal(job.state)) {
      deliver(job ?? null);
      return null;
    }
    return this.park(this.jobWaiters, id, deliver);
  }

  // ---- queues -----------------------------------------------------------

  queue(name: Bytes): QueueState | undefined {
    return this.store.queues.get(name);
  }

  /** the jobs CLAIM would hand out next, in order, without claiming them */
  peek(queue: Bytes, count: number): Job[] {
    const q = this.store.queues.get(queue);
    const out: Job[] = [];
    if (!q || q.paused) return out;
    const at = this.now();
    return peekInTurn(q, Math.min(count, this.queueAllowance(q, at)), this.config.priorityWeights, (g) => this.groupAllowance(q, g, at));
  }

  /** how many jobs a group may still be handed now: free concurrency slots and whole tokens (retries need no slot) */
  private groupAllowance(q: QueueState, g: GroupState, at: number): { fresh: number; total: number } {
    if (g.key === UNGROUPED) return { fresh: Infinity, total: Infinity };
    const l = g.limits;
    const fresh = l.concurrency === null ? Infinity : Math.max(0, l.concurrency - g.inProgress);
    const total = l.rate === null ? Infinity : Math.floor((g.bucket ?? this.newBucket(l.rate, at)).available(at));
    return { fresh, total };
  }

  /** JOBS: one page of the queue's jobs in a state (see job-listing.ts for the order and the paging guarantee) */
  jobsInState(queue: Bytes, state: JobState, from: ListPosition | null, count: number, order: ListOrder): JobPage {
    return listJobs(this.store.queues.get(queue), state, from, count, order, (id) => this.store.jobs.get(id));
  }

  dlq(queue: Bytes, count: number): Job[] {
    const out: Job[] = [];
    const q = this.store.queues.get(queue);
    for (let j = q?.dead.head ?? null; j && out.length < count; j = j.next) out.push(j);
    return out;
  }

  setPaused(queue: Bytes, paused: boolean): void {
    if ((this.store.queues.get(queue)?.paused ?? false) === paused) return;
    this.configureQueue(queue, { paused });
  }

  setMaxlen(queue: Bytes, maxlen: number): void {
    this.configureQueue(queue, { maxlen });
  }

  /** QCONFIG queue CONCURRENCY n: at most n active jobs across all workers (null = no cap) */
  setConcurrency(queue: Bytes, concurrency: number | null): void {
    this.configureQueue(queue, { concurrency });
  }

  /** QCONFIG: one record with every setting of the queue, the patched ones changed */
  configureQueue(queue: Bytes, patch: QueueSettingsPatch): void {
    const q = this.store.queues.get(queue);
    const rate = patch.rate !== undefined ? patch.rate : (q?.rate ?? null);
    const d = patch.groupDefaults ?? q?.groupDefaults ?? NO_LIMITS;
    this.commit({
      type: 'queue-config',
      at: this.now(),
      queue,
      paused: patch.paused ?? q?.paused ?? false,
      maxlen: patch.maxlen !== undefined ? patch.maxlen : (q?.maxlen ?? null),
      concurrency: patch.concurrency !== undefined ? patch.concurrency : (q?.concurrency ?? null),
      rate: rate?.rate ?? null,
      ratePer: rate?.per ?? null,
      groupConcurrency: d.concurrency,
      groupRate: d.rate?.rate ?? null,
      groupRatePer: d.rate?.per ?? null,
      groupMaxlen: d.maxlen,
    });
    this.limitsApplied(this.store.queues.get(queue));
    this.settle();
  }

  /** GROUP CONFIG: a group's own limits (null fields take the queue's group defaults; all null removes the override) */
  configureGroup(queue: Bytes, group: Bytes, override: GroupLimits): void {
    this.commit({
      type: 'group-config',
      at: this.now(),
      queue,
      group,
      concurrency: override.concurrency,
      rate: override.rate?.rate ?? null,
      ratePer: override.rate?.per ?? null,
      maxlen: override.maxlen,
    });
    this.limitsApplied(this.store.queues.get(queue));
    this.settle();
  }

  /** GROUP RESET: the group's own limits go (the queue's defaults apply again); 0 if it had none */
  resetGroup(queue: Bytes, group: Bytes): 0 | 1 {
    if (!this.store.queues.get(queue)?.groupOverrides.has(group)) return 0;
    this.configureGroup(queue, group, NO_LIMITS);
    return 1;
  }

  /** after a limit changed: buckets take the new size (tokens earned are kept up to it), dropped where no rate applies */
  private limitsApplied(q: QueueState | undefined): void {
    if (!q) return;
    const at = this.now();
    if (q.rate === null) q.bucket = null;
    else q.bucket?.resize(q.rate.rate, q.rate.per, at);
    for (const g of q.groups.values()) {
      if (g.bucket === null) continue;
      const rate = g.limits.rate;
      if (rate === null) {
        g.bucket = null;
        g.tokenBlocked = false;
      } else {
        g.bucket.resize(rate.rate, rate.per, at);
        g.tokenBlocked = g.bucket.available(at) < 1;
        if (g.tokenBlocked) this.wakeAt(q, g, g.bucket.nextTokenAt(at));
      }
      if (refreshGroup(q, g)) this.store.readied(q);
      if (g.backlog === 0 && g.bucket === null) q.groups.delete(g.key);
    }
    if (q.claimable) this.store.readied(q);
  }

  /** the limits a group has now, and whether they are its own (GROUP CONFIG) */
  groupLimits(queue: Bytes, group: Bytes): { limits: GroupLimits; override: GroupLimits | null } {
    const q = this.store.queues.get(queue);
    if (!q) return { limits: NO_LIMITS, override: null };
    return { limits: limitsOf(q, group), override: q.groupOverrides.get(group) ?? null };
  }

  /** GROUP LIST: up to `count` groups with the most waiting jobs, largest first (one pass, a bounded selection) */
  largestGroups(queue: Bytes, count: number): GroupState[] {
    const q = this.store.queues.get(queue);
    if (!q) return [];
    const top: GroupState[] = [];
    for (const g of q.groups.values()) {
      if (g.key === UNGROUPED || g.backlog === 0) continue;
      if (top.length === count && g.backlog <= top[top.length - 1].backlog) continue;
      let i = top.length < count ? top.length : count - 1;
      while (i > 0 && top[i - 1].backlog < g.backlog) {
        if (i < count) top[i] = top[i - 1];
        i--;
      }
      top[i] = g;
      if (top.length > count) top.length = count;
    }
    return top;
  }

  /** QDEL: forgets a queue's settings and finished jobs; refused while it holds waiting or active jobs */
  deleteQueue(queue: Bytes): 0 | 1 {
    const q = this.store.queues.get(queue);
    if (!q) return 0;
    if (q.backlog > 0) throw new EngineError('STATE', `queue has ${q.backlog} waiting or active jobs (PURGE queue WAITING removes the waiting ones)`);
    this.commit({ type: 'queue-delete', at: this.now(), queue });
    this.settle();
    return 1;
  }

  requeue(id: Bytes): 0 | 1 {
    const job = this.get(id);
    if (job.state !== JobState.Dead && job.state !== JobState.Cancelled) return 0;
    this.commit({ type: 'requeue', at: this.now(), id });
    this.settle();
    return 1;
  }

  requeueAllDead(queue: Bytes): number {
    const q = this.store.queues.get(queue);
    let n = 0;
    if (q) {
      for (let job = q.dead.head; job; job = q.dead.head) {
        this.commit({ type: 'requeue', at: this.now(), id: job.id });
        n++;
      }
    }
    this.settle();
    return n;
  }

  purge(queue: Bytes, what: PurgeWhat): number {
    const q = this.store.queues.get(queue);
    if (!q) return 0;
    const n = purgeLists(q, what).reduce((sum, list) => sum + list.size, 0);
    if (n > 0) this.commit({ type: 'purge', at: this.now(), queue, what });
    this.settle();
    return n;
  }

  /**
   * A connection closed. Its active jobs are redelivered at once (a failed
   * delivery) when it asked for that (CLIENT REQUEUE-ON-CLOSE ON) or the
   * requeue-on-disconnect setting says so; otherwise their leases run on.
   */
  releaseOwner(owner: number, requeue = false): void {
    const owned = this.store.byOwner.get(owner);
    if (!owned) return;
    if (requeue || this.config.requeueOnDisconnect) {
      const at = this.now();
      for (const job of [...owned]) {
        this.commit({ type: 'lease-lost', at, id: job.id, to: this.afterFailure(job), reason: 'disconnect' });
      }
    }
    for (const job of owned) job.owner = 0;
    this.store.byOwner.delete(owner);
    this.settle();
  }

  // ---- recurring jobs ------------------------------------------------------

  setCron(entry: Omit<CronSetRecord, 'type' | 'at'>): void {
    this.commit({ type: 'cron-set', at: this.now(), ...entry });
  }

  deleteCron(name: Bytes): 0 | 1 {
    if (!this.store.crons.has(name)) return 0;
    this.commit({ type: 'cron-del', at: this.now(), name });
    return 1;
  }

  cronRan(name: Bytes, nextRunAt: number): void {
    if (this.store.crons.has(name)) this.commit({ type: 'cron-run', at: this.now(), name, nextRunAt });
  }

  // ---- lifecycle ----------------------------------------------------------

  /**
   * After start-up replay: totals count from this start, and lease deadlines
   * written by the previous process are re-based on this clock (a lease never
   * runs longer than its length, whatever the wall clock did meanwhile).
   */
  afterLoad(): void {
    this.resetCounters();
    const now = this.now();
    this.loadedAt = now;
    for (const q of this.store.queues.values()) this.emptyBuckets(q, now);
    for (const q of this.store.queues.values()) {
      for (const job of q.active) {
        if (job.leaseUntil - now > job.deliveryLease) {
          job.leaseUntil = now + job.deliveryLease;
          this.store.scheduleDeadline(job);
        }
      }
    }
    this.settle();
  }

  /** after a restart every rate starts with an empty bucket: a restart never lets a burst through */
  private emptyBuckets(q: QueueState, now: number): void {
    if (q.rate !== null) q.bucket = new TokenBucket(q.rate.rate, q.rate.per, now, false);
    if (noLimits(q.groupDefaults) && q.groupOverrides.size === 0) return;
    for (const l of [q.groupDefaults, ...q.groupOverrides.values()]) if (l.rate) this.emptyBucketsUntil = Math.max(this.emptyBucketsUntil, now + l.rate.per);
    for (const g of q.groups.values()) {
      const rate = g.limits.rate;
      if (rate === null) continue;
      g.bucket = new TokenBucket(rate.rate, rate.per, now, false);
      this.blockUntilToken(q, g, now);
    }
  }

  resetCounters(): void {
    for (const q of this.store.queues.values()) q.counters = zeroCounters();
  }

  // ---- time ---------------------------------------------------------------

  /** the earliest pending deadline (engine ms), Infinity when none */
  nextDeadline(): number {
    const next = this.store.heap.peek();
    return Math.min(next ? next.deadline : Infinity, this.wakes.peekKey());
  }

  /** processes the deadlines due at `now` (in batches: a long backlog yields between calls) */
  tick(now: number): void {
    const heap = this.store.heap;
    for (let n = 0; n < TICK_BATCH; n++) {
      const job = heap.peek();
      if (!job || job.deadline > now) break;
      this.onDeadline(job, now);
      if (job.heapIndex >= 0 && job.deadline <= now) heap.remove(job); // never spin on a job
    }
    for (let n = 0; n < TICK_BATCH && this.wakes.peekKey() <= now; n++) this.onWake(this.wakes.pop()!, now);
    this.settle();
  }

  private onDeadline(job: Job, now: number): void {
    if (!isFinal(job.state) && job.expiresAt > 0 && job.expiresAt <= now) {
      this.commit({ type: 'ttl-expired', at: now, id: job.id });
    } else if (job.state === JobState.Scheduled && job.runAt <= now) {
      this.store.promote(job, now);
    } else if (job.state === JobState.Active && job.leaseUntil <= now) {
      this.commit({ type: 'lease-lost', at: now, id: job.id, to: this.afterFailure(job), reason: 'expired' });
    } else if (isFinal(job.state)) {
      this.store.drop(job);
    } else {
      this.store.scheduleDeadline(job);
    }
  }

  /** a delivery failed without NACK: dead when it was the last one allowed, else ready at once */
  private afterFailure(job: Job): JobState.Ready | JobState.Dead {
    return job.deliveries >= job.retries + 1 ? JobState.Dead : JobState.Ready;
  }

  private announceDeadline(): void {
    this.onNextDeadline(this.nextDeadline());
  }

  // ---- waiters ----------------------------------------------------------

  /**
   * Serves whatever the last change made possible: blocked claimers of
   * queues that got ready jobs, blocked producers of queues that got room.
   */
  settle(): void {
    if (this.settling) return;
    if (this.readied.length === 0 && this.roomy.length === 0) {
      this.announceDeadline(); // nothing can be served: the common case of a CLAIM or an ACK
      return;
    }
    this.settling = true;
    try {
      while (this.readied.length > 0 || this.roomy.length > 0) {
        while (this.readied.length > 0) {
          const q = this.readied.shift()!;
          q.settleReady = false;
          this.serveClaimers(q);
        }
        while (this.roomy.length > 0) {
          const q = this.roomy.shift()!;
          q.settleRoom = false;
          this.serveProducers(q.name);
        }
      }
    } finally {
      this.settling = false;
    }
    this.announceDeadline();
  }

  private serveClaimers(q: QueueState): void {
    const waiters = this.claimWaiters.get(q.name);
    if (!waiters) return;
    const at = this.now();
    while (waiters.size > 0 && !q.paused) {
      this.dropTokenless(q, at);
      if (!q.claimable || this.queueAllowance(q, at) < 1) break;
      const w = waiters.shift()!;
      w.deliver(this.claimNow(q.name, w.req));
    }
    if (waiters.size === 0) this.claimWaiters.delete(q.name);
    else if (!q.paused) this.wakeForToken(q, at);
  }

  /** each blocked producer in arrival order tries again; one whose group is still full does not hold back the others */
  private serveProducers(queue: Bytes): void {
    const waiters = this.enqueueWaiters.get(queue);
    if (!waiters) return;
    for (const node of waiters.nodes()) {
      if (this.isFull(queue)) break;
      if (node.value()) waiters.remove(node);
    }
    if (waiters.size === 0) this.enqueueWaiters.delete(queue);
  }

  private notifyJobWaiters(job: Job, value: Job | null): void {
    const waiters = this.jobWaiters.get(job.id);
    if (!waiters) return;
    this.jobWaiters.delete(job.id);
    for (const deliver of waiters.drain()) deliver(value);
  }

  private park<T>(table: Map<Bytes, WaitList<T>>, key: Bytes, item: T): Cancel {
    let list = table.get(key);
    if (!list) table.set(key, (list = new WaitList<T>()));
    const node = list.push(item);
    return () => {
      const current = table.get(key);
      if (!current || !current.remove(node)) return;
      if (current.size === 0) table.delete(key);
    };
  }

  /** the payload arena of this process (payload-arena.ts), for INFO memory and /metrics */
  payloadStats(): ArenaStats {
    return payloads.stats();
  }

  /** numbers for INFO: parked requests of each kind */
  waiterCounts(): { claim: number; enqueue: number; job: number } {
    const sum = (t: Map<Bytes, WaitList<unknown>>) => [...t.values()].reduce((n, l) => n + l.size, 0);
    return { claim: sum(this.claimWaiters), enqueue: sum(this.enqueueWaiters), job: sum(this.jobWaiters) };
  }

  // ---- helpers ----------------------------------------------------------

  private get(id: Bytes): Job {
    const job = this.store.jobs.get(id);
    if (!job) throw noJob();
    return job;
  }

  /** ACK/NACK/TOUCH precondition, errors in the contract's order */
  private checkActive(job: Job, delivery: number | undefined): void {
    if (delivery !== undefined) {
      if (job.state !== JobState.Active || job.deliveries !== delivery) throw stale();
    } else if (job.state !== JobState.Active) {
      throw notActive(STATE_NAMES[job.state]);
    }
  }
}
