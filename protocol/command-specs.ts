/**
 * The command table: one declarative spec per command. It drives lookup,
 * arity errors, COMMAND / COMMAND DOCS, the auth and loading gates, and
 * docs/protocol.md. Handlers never re-check what the spec already says.
 */
import { AclCategory } from './acl-categories';

export type CommandFlag =
  | 'write' // changes job state: appended to the log, refused with MISCONF when the log cannot be written
  | 'readonly'
  | 'blocking' // may park the client (BLOCK option)
  | 'admin'
  | 'noauth' // allowed before AUTH when a password is set
  | 'loading' // allowed while the log is replayed at start-up
  | 'fast';

export type CommandGroup = 'job' | 'queue' | 'cron' | 'connection' | 'server';

/**
 * The lease operations: what they change (who holds a job, until when, and
 * its completion) is redelivery if lost, never a lost job. Under
 * `lease-durability written` their replies go out once their log records are
 * written to the OS, without waiting for the fsync; every other reply waits
 * for it (see docs/protocol.md "Durability of replies").
 */
export const LEASE_OPERATIONS: ReadonlySet<string> = new Set(['claim', 'ack', 'nack', 'touch']);

export interface CommandSpec<N extends string = string> {
  /** lower-case name; "parent|sub" for a subcommand */
  name: N;
  /** Redis convention: N > 0 exactly N words including the name; -N at least N */
  arity: number;
  flags: readonly CommandFlag[];
  group: CommandGroup;
  /** argument synopsis, as shown in docs and COMMAND DOCS */
  syntax: string;
  summary: string;
  /** position of the first "key" (queue name or job id) for COMMAND; 0 = none */
  firstKey: number;
  subcommands?: readonly CommandSpec[];
  /** ACL categories: the ones the flags and group imply plus the ACCESS entry's (filled once, below) */
  readonly categories: readonly AclCategory[];
  /** the argument naming the queue the request touches, for ACL queue patterns; null = none (filled from ACCESS) */
  readonly key: KeyArg | null;
}

/**
 * Which argument of a request names the queue it touches, so the request
 * gate can check it against the user's queue patterns.
 */
export interface KeyArg {
  /** index in the request words (0 is the command name); for an HTTP route, index in its path parameters */
  readonly at: number;
  /**
   * queue: the word is a queue name. job: a job id, whose queue the gate
   * looks up. job-or-queue: a queue when the next word is ALL (REQUEUE queue
   * ALL), a job id otherwise. job-or-ids: a job id, or the word IDS starting
   * ACK's batch form (`IDS numids id ...`), whose every id is checked.
   */
  readonly is: 'queue' | 'job' | 'job-or-queue' | 'job-or-ids';
}

function spec<const N extends string>(
  name: N,
  arity: number,
  flags: CommandFlag[],
  group: CommandGroup,
  syntax: string,
  summary: string,
  firstKey = 1,
): CommandSpec<N> & { subcommands?: undefined } {
  return { name, arity, flags, group, syntax, summary, firstKey, categories: [], key: null };
}

/** a command with subcommands: the container has no handler, each subcommand has one (HELP included) */
function container<const N extends string, const S extends readonly CommandSpec[]>(
  name: N,
  flags: CommandFlag[],
  group: CommandGroup,
  summary: string,
  subcommands: S,
): CommandSpec<N> & { subcommands: S } {
  const words = subcommands.map((c) => c.name.slice(name.length + 1).toUpperCase()).join('|');
  return { name, arity: -2, flags, group, syntax: `${words} ...`, summary, firstKey: 0, subcommands, categories: [], key: null };
}

function sub<const P extends string, const S extends string>(
  parent: P,
  name: S,
  arity: number,
  flags: CommandFlag[],
  group: CommandGroup,
  syntax: string,
  summary: string,
): CommandSpec<`${P}|${S}`> {
  return { name: `${parent}|${name}`, arity, flags, group, syntax, summary, firstKey: 0, categories: [], key: null };
}

/** the HELP subcommand every container has, as in Redis */
function help<const P extends string>(parent: P, group: CommandGroup): CommandSpec<`${P}|help`> {
  return sub(parent, 'help', 2, ['fast', 'loading'], group, '', 'Lists the subcommands with their arguments.');
}

const JOB_OPTIONS = '[PRIORITY high|normal|low] [DELAY ms | AT unix-ms] [RETRIES n] [BACKOFF base-ms [MAX max-ms]] [LEASE ms] [TTL ms] [GROUP key]';
const ENQUEUE_OPTIONS = `${JOB_OPTIONS} [ID id] [BLOCK ms]`;

export const COMMAND_SPECS = [
  // jobs
  spec(
    'enqueue',
    -3,
    ['write', 'blocking'],
    'job',
    `queue payload ${ENQUEUE_OPTIONS} | queue PAYLOADS numjobs payload [payload ...] ${JOB_OPTIONS}`,
    'Creates a job and returns its id (idempotent with ID); the PAYLOADS form creates many with the same options and replies one id (or error) per payload.',
  ),
  spec(
    'claim',
    -2,
    ['write', 'blocking'],
    'job',
    'queue [COUNT n] [BLOCK ms] [LEASE ms]',
    'Hands up to n ready jobs to the caller, each as [id, queue, payload, deliveries].',
  ),
  spec(
    'ack',
    -2,
    ['write', 'fast'],
    'job',
    'id [RESULT value] [DELIVERY d] | IDS numids id [id ...] [DELIVERY d [d ...]]',
    'Marks an active job completed; the IDS form acknowledges many and replies one result per id.',
  ),
  spec(
    'nack',
    -2,
    ['write', 'fast'],
    'job',
    'id [DELAY ms] [ERROR message] [NORETRY] [DELIVERY d]',
    'Reports a failed delivery; the job is retried after its backoff or becomes dead.',
  ),
  spec('touch', -2, ['write', 'fast'], 'job', 'id [LEASE ms] [DELIVERY d]', 'Extends the lease of an active job (heartbeat); returns the new deadline.'),
  spec('status', -2, ['readonly', 'fast'], 'job', 'id [WITHPAYLOAD]', 'Returns every field of a job, or nil.'),
  spec('cancel', 2, ['write', 'fast'], 'job', 'id', 'Cancels a ready or scheduled job.'),
  spec('promote', 2, ['write', 'fast'], 'job', 'id', 'Makes a scheduled job ready now; :1, or :0 if it is not scheduled.'),
  spec('waitjob', -2, ['readonly', 'blocking'], 'job', 'id [BLOCK ms]', 'Waits until the job is completed, dead or cancelled; replies its STATUS.'),
  // queues
  spec('queues', 1, ['readonly'], 'queue', '', 'Lists queue names.', 0),
  spec('qstats', 2, ['readonly'], 'queue', 'queue', 'Counts of jobs per state and priority, settings and totals of a queue.'),
  spec('qlen', 2, ['readonly', 'fast'], 'queue', 'queue', 'ready + scheduled + active jobs of a queue.'),
  spec('peek', -2, ['readonly'], 'queue', 'queue [COUNT n]', 'The next jobs CLAIM would hand out, not claimed.'),
  spec('pause', 2, ['write'], 'queue', 'queue', 'Stops handing out jobs of a queue (ENQUEUE still accepted).'),
  spec('resume', 2, ['write'], 'queue', 'queue', 'Resumes a paused queue.'),
  spec(
    'jobs',
    -3,
    ['readonly'],
    'queue',
    'queue ready|scheduled|active|completed|dead|cancelled [CURSOR c] [COUNT n] [ORDER asc|desc] [PREVIEW bytes]',
    'Pages through the jobs of a queue in one state, like SCAN: [next-cursor, [entry, ...]]; cursor 0 starts and ends a walk.',
  ),
  spec('dlq', -2, ['readonly'], 'queue', 'queue [COUNT n]', 'Dead jobs of a queue, each as [id, queue, payload, deliveries, last-error].'),
  spec('requeue', -2, ['write'], 'queue', 'id | queue ALL', 'Moves a dead or cancelled job (or every dead job of a queue) back to ready.'),
  spec('purge', 3, ['write'], 'queue', 'queue DEAD|COMPLETED|CANCELLED|ALL|WAITING', 'Removes the jobs of a queue in a state; replies the count.'),
  spec(
    'qconfig',
    -4,
    ['write'],
    'queue',
    'queue [MAXLEN n] [CONCURRENCY n] [RATE n [PER ms]] [GROUP-CONCURRENCY n] [GROUP-RATE n [PER ms]] [GROUP-MAXLEN n]',
    'Sets queue settings (0 = no limit). MAXLEN: bound on ready + scheduled + active. CONCURRENCY: at most n active jobs across all workers. RATE: at most n claims per PER ms (default 1000). GROUP-*: the same limits for each group of the queue (concurrency counts jobs handed out and not yet completed or dead).',
  ),
  spec(
    'qdel',
    2,
    ['write'],
    'queue',
    'queue',
    'Deletes a queue with no waiting or active jobs: its settings (pause, MAXLEN) and finished jobs; :1, or :0 if none.',
  ),
  // groups
  container('group', ['readonly'], 'queue', 'Groups of a queue (ENQUEUE ... GROUP key): limits per group key and their state.', [
    sub(
      'group',
      'config',
      -6,
      ['write'],
      'queue',
      'queue key [CONCURRENCY n] [RATE n [PER ms]] [MAXLEN n]',
      "Sets one group's own limits, replacing the queue's GROUP-* defaults for it (0 = no limit for this group).",
    ),
    sub('group', 'reset', 4, ['write'], 'queue', 'queue key', "Removes a group's own limits (the queue's defaults apply again); :1, or :0 if it had none."),
    sub('group', 'stats', 4, ['readonly'], 'queue', 'queue key', "A group's job counts and the limits that apply to it, as field/value pairs."),
    sub(
      'group',
      'list',
      -3,
      ['readonly'],
      'queue',
      'queue [COUNT n]',
      'The groups with the most waiting jobs (default COUNT 100), each [key, waiting, ready, active, in-progress].',
    ),
    help('group', 'queue'),
  ]),
  // cron
  container('cron', ['write'], 'cron', 'Recurring jobs.', [
    sub('cron', 'set', -6, ['write'], 'cron', `name cron-expression queue payload [TZ zone] ${JOB_OPTIONS}`, 'Creates or replaces a recurring job.'),
    sub('cron', 'del', 3, ['write'], 'cron', 'name', 'Deletes a recurring job.'),
    sub('cron', 'list', 2, ['readonly'], 'cron', '', 'Lists recurring jobs as [name, expression, queue, next-run-unix-ms].'),
    help('cron', 'cron'),
  ]),
  // connection
  spec('ping', -1, ['fast'], 'connection', '[message]', 'Replies PONG, or the message.', 0),
  spec('echo', 2, ['fast'], 'connection', 'message', 'Replies the message.', 0),
  spec('quit', -1, ['fast', 'noauth', 'loading'], 'connection', '', 'Closes the connection after replying OK.', 0),
  spec(
    'hello',
    -1,
    ['fast', 'noauth', 'loading'],
    'connection',
    '[2|3 [AUTH user password] [SETNAME name]]',
    'Switches protocol version; replies server info.',
    0,
  ),
  spec('auth', -2, ['fast', 'noauth', 'loading'], 'connection', '[user] password', 'Authenticates the connection.', 0),
  spec('select', 2, ['fast', 'loading'], 'connection', '0', 'Only database 0 exists; accepted for client compatibility.', 0),
  spec('reset', 1, ['fast', 'noauth', 'loading'], 'connection', '', 'Resets the connection state (protocol 2, no name, not authenticated).', 0),
  container('client', ['loading'], 'connection', 'Connection introspection.', [
    sub('client', 'setname', 3, ['fast', 'loading'], 'connection', 'name', 'Names the connection.'),
    sub('client', 'getname', 2, ['fast', 'loading'], 'connection', '', 'The connection name, or nil.'),
    sub('client', 'id', 2, ['fast', 'loading'], 'connection', '', 'The connection id.'),
    sub('client', 'info', 2, ['fast', 'loading'], 'connection', '', 'This connection, as one CLIENT LIST line.'),
    sub('client', 'list', -2, ['admin', 'loading'], 'connection', '', 'One line per connection.'),
    sub('client', 'kill', -3, ['admin', 'loading'], 'connection', 'ID id | ADDR ip:port | addr', 'Closes connections.'),
    sub('client', 'setinfo', 4, ['fast', 'loading'], 'connection', 'LIB-NAME|LIB-VER value', 'Records the client library name or version.'),
    sub(
      'client',
      'requeue-on-close',
      3,
      ['fast', 'loading'],
      'connection',
      'ON|OFF',
      'ON: when this connection closes, the jobs it claimed and still holds are ready again at once (a failed delivery), instead of waiting for their leases.',
    ),
    help('client', 'connection'),
  ]),
  // server
  spec('command', -1, ['loading'], 'server', '[COUNT | DOCS [name ...] | INFO [name ...] | LIST]', 'The command table.', 0),
  spec('info', -1, ['loading'], 'server', '[section ...]', 'Server information in field:value text.', 0),
  container('config', ['admin', 'loading'], 'server', 'Reads and changes settings.', [
    sub('config', 'get', -3, ['admin', 'loading'], 'server', 'pattern [pattern ...]', 'Settings matching the glob patterns, as name/value pairs.'),
    sub('config', 'set', -4, ['admin'], 'server', 'name value [name value ...]', 'Changes runtime-safe settings.'),
    sub('config', 'resetstat', 2, ['admin'], 'server', '', 'Resets the totals of INFO stats and QSTATS.'),
    sub(
      'config',
      'rewrite',
      2,
      ['admin'],
      'server',
      '',
      'Writes the runtime settings into the config file given with --config (CONFIG SET alone lasts until restart).',
    ),
    help('config', 'server'),
  ]),
  container('acl', ['admin', 'loading'], 'server', 'Users and their permissions (Redis ACL model; see docs/acl.md).', [
    sub('acl', 'setuser', -3, ['admin', 'loading'], 'server', 'username [rule ...]', 'Creates a user or applies rules to it (all or none).'),
    sub('acl', 'deluser', -3, ['admin', 'loading'], 'server', 'username [username ...]', 'Deletes users and closes their connections; replies the count.'),
    sub('acl', 'getuser', 3, ['admin', 'loading'], 'server', 'username', "A user's flags, password hashes, commands and queue patterns, or nil."),
    sub('acl', 'list', 2, ['admin', 'loading'], 'server', '', 'Every user as an ACL file line.'),
    sub('acl', 'users', 2, ['admin', 'loading'], 'server', '', 'Every user name.'),
    sub('acl', 'whoami', 2, ['fast', 'loading'], 'server', '', 'The user of this connection.'),
    sub('acl', 'cat', -2, ['loading'], 'server', '[category]', 'The categories, or the commands of one.'),
    sub('acl', 'log', -2, ['admin', 'loading'], 'server', '[count | RESET]', 'Recent denials and failed logins, newest first.'),
    sub('acl', 'save', 2, ['admin', 'loading'], 'server', '', 'Writes the users to the aclfile (atomically).'),
    sub('acl', 'load', 2, ['admin', 'loading'], 'server', '', 'Replaces every user by the aclfile, all or nothing.'),
    help('acl', 'server'),
  ]),
  spec('dbsize', 1, ['readonly', 'fast'], 'server', '', 'Number of jobs stored.', 0),
  spec('save', 1, ['admin'], 'server', '', 'Takes a snapshot now (blocking).', 0),
  spec('bgsave', -1, ['admin'], 'server', '[SCHEDULE]', 'Takes a snapshot in the background.', 0),
  spec('lastsave', 1, ['fast', 'loading'], 'server', '', 'Unix time (seconds) of the last successful snapshot.', 0),
  spec('shutdown', -1, ['admin', 'loading'], 'server', '[SAVE|NOSAVE]', 'Flushes the log, snapshots (unless NOSAVE) and exits.', 0),
  spec('time', 1, ['fast', 'loading'], 'server', '', 'Server time as [unix-seconds, microseconds].', 0),
  container('slowlog', ['admin', 'loading'], 'server', 'Commands that ran longer than slowlog-slower-than microseconds.', [
    sub(
      'slowlog',
      'get',
      -2,
      ['admin', 'loading'],
      'server',
      '[count]',
      'The newest entries (default 10, -1 = all), each [id, unix-time, microseconds, [args], client-addr, client-name].',
    ),
    sub('slowlog', 'len', 2, ['admin', 'loading'], 'server', '', 'Number of entries.'),
    sub('slowlog', 'reset', 2, ['admin', 'loading'], 'server', '', 'Removes every entry.'),
    help('slowlog', 'server'),
  ]),
] as const;

type LeafName<T> = T extends { subcommands: readonly (infer S)[] } ? (S extends CommandSpec<infer M> ? M : never) : T extends CommandSpec<infer M> ? M : never;

/** every name a handler exists for: commands without subcommands, and each subcommand ("client|list") */
export type HandlerName = LeafName<(typeof COMMAND_SPECS)[number]>;

/** ACL facts a command's flags and group do not imply: more categories, and the argument naming its queue */
interface Access {
  categories?: readonly AclCategory[];
  key?: KeyArg;
}

const queueAt = (at: number): KeyArg => ({ at, is: 'queue' });
const JOB: KeyArg = { at: 1, is: 'job' };
const QUEUE = queueAt(1);
/** what client libraries send on connect (ioredis: CLIENT SETNAME / SETINFO): producers and workers need them */
const HOUSEKEEPING: Access = { categories: ['produce', 'consume'] };

const ACCESS: { readonly [K in HandlerName]?: Access } = {
  enqueue: { key: QUEUE, categories: ['produce'] },
  claim: { key: QUEUE, categories: ['consume'] },
  ack: { key: { at: 1, is: 'job-or-ids' }, categories: ['consume'] },
  nack: { key: JOB, categories: ['consume'] },
  touch: { key: JOB, categories: ['consume'] },
  status: { key: JOB, categories: ['produce', 'consume'] },
  cancel: { key: JOB, categories: ['produce'] },
  waitjob: { key: JOB, categories: ['produce'] },
  qstats: { key: QUEUE },
  qlen: { key: QUEUE, categories: ['produce'] },
  peek: { key: QUEUE },
  pause: { key: QUEUE },
  resume: { key: QUEUE },
  dlq: { key: QUEUE },
  requeue: { key: { at: 1, is: 'job-or-queue' } },
  purge: { key: QUEUE, categories: ['dangerous'] },
  qconfig: { key: QUEUE },
  qdel: { key: QUEUE, categories: ['dangerous'] },
  'cron|set': { key: queueAt(4) },
  'group|config': { key: queueAt(2) },
  'group|reset': { key: queueAt(2) },
  'group|stats': { key: queueAt(2) },
  'group|list': { key: queueAt(2) },
  ping: HOUSEKEEPING,
  select: HOUSEKEEPING,
  'client|setname': HOUSEKEEPING,
  'client|setinfo': HOUSEKEEPING,
  'client|getname': HOUSEKEEPING,
  'client|id': HOUSEKEEPING,
  'client|requeue-on-close': { categories: ['consume'] },
  command: { categories: ['connection'] },
  info: { categories: ['dangerous'] },
};

/** Redis derives most categories from flags; resq also from the group */
function categoriesOf(s: CommandSpec, access: Access | undefined): AclCategory[] {
  const out = new Set<AclCategory>();
  if (s.flags.includes('write')) out.add('write');
  if (s.flags.includes('readonly')) out.add('read');
  if (s.flags.includes('admin')) out.add('admin').add('dangerous');
  if (s.flags.includes('blocking')) out.add('blocking');
  out.add(s.flags.includes('fast') ? 'fast' : 'slow');
  const byGroup = { job: 'jobs', queue: 'queues', cron: 'cron', connection: 'connection', server: undefined } as const;
  const g = byGroup[s.group];
  if (g) out.add(g);
  for (const c of access?.categories ?? []) out.add(c);
  return [...out];
}

const BY_NAME = new Map<string, CommandSpec>();
for (const s of COMMAND_SPECS as readonly CommandSpec[]) {
  BY_NAME.set(s.name, s);
  for (const c of s.subcommands ?? []) BY_NAME.set(c.name, c);
}
for (const s of BY_NAME.values()) {
  const access = ACCESS[s.name as HandlerName];
  Object.assign(s, { categories: categoriesOf(s, access), key: access?.key ?? null });
}

/** every spec that has a handler: commands without subcommands and each subcommand */
export const LEAF_SPECS: readonly CommandSpec[] = [...BY_NAME.values()].filter((s) => !s.subcommands);

/** name is compared case-insensitively; subcommands are looked up as "parent|sub" */
export function findCommand(name: string): CommandSpec | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function arityOk(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}
