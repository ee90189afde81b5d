/**
 * The command table: one declarative spec per command. It drives lookup,
 * arity errors, COMMAND / COMMAND DOCS, the auth and loading gates, and
 * docs/protocol.md. Handlers never re-check what the spec already says.
 */

export type CommandFlag =
  | 'write' // changes job state: appended to the log, refused with MISCONF when the log cannot be written
  | 'readonly'
  | 'blocking' // may park the client (BLOCK option)
  | 'admin'
  | 'noauth' // allowed before AUTH when a password is set
  | 'loading' // allowed while the log is replayed at start-up
  | 'fast';

export type CommandGroup = 'job' | 'queue' | 'cron' | 'connection' | 'server';

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
  return { name, arity, flags, group, syntax, summary, firstKey };
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
  return { name, arity: -2, flags, group, syntax: `${words} ...`, summary, firstKey: 0, subcommands };
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
  return { name: `${parent}|${name}`, arity, flags, group, syntax, summary, firstKey: 0 };
}

/** the HELP subcommand every container has, as in Redis */
function help<const P extends string>(parent: P, group: CommandGroup): CommandSpec<`${P}|help`> {
  return sub(parent, 'help', 2, ['fast', 'loading'], group, '', 'Lists the subcommands with their arguments.');
}

const JOB_OPTIONS = '[PRIORITY high|normal|low] [DELAY ms | AT unix-ms] [RETRIES n] [BACKOFF base-ms [MAX max-ms]] [LEASE ms] [TTL ms]';
const ENQUEUE_OPTIONS = `${JOB_OPTIONS} [ID id] [BLOCK ms]`;

export const COMMAND_SPECS = [
  // jobs
  spec('enqueue', -3, ['write', 'blocking'], 'job', `queue payload ${ENQUEUE_OPTIONS}`, 'Creates a job and returns its id (idempotent with ID).'),
  spec(
    'claim',
    -2,
    ['write', 'blocking'],
    'job',
    'queue [COUNT n] [BLOCK ms] [LEASE ms]',
    'Hands up to n ready jobs to the caller, each as [id, queue, payload, deliveries].',
  ),
  spec('ack', -2, ['write', 'fast'], 'job', 'id [RESULT value] [DELIVERY d]', 'Marks an active job completed.'),
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
  spec('qconfig', -4, ['write'], 'queue', 'queue MAXLEN n', 'Sets a queue setting (MAXLEN: bound on ready + scheduled + active, 0 = unlimited).'),
  spec(
    'qdel',
    2,
    ['write'],
    'queue',
    'queue',
    'Deletes a queue with no waiting or active jobs: its settings (pause, MAXLEN) and finished jobs; :1, or :0 if none.',
  ),
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
    help('client', 'connection'),
  ]),
  // server
  spec('command', -1, ['loading'], 'server', '[COUNT | DOCS [name ...] | INFO [name ...] | LIST]', 'The command table.', 0),
  spec('info', -1, ['loading'], 'server', '[section ...]', 'Server information in field:value text.', 0),
  container('config', ['admin', 'loading'], 'server', 'Reads and changes settings.', [
    sub('config', 'get', -3, ['admin', 'loading'], 'server', 'pattern [pattern ...]', 'Settings matching the glob patterns, as name/value pairs.'),
    sub('config', 'set', -4, ['admin'], 'server', 'name value [name value ...]', 'Changes runtime-safe settings.'),
    sub('config', 'resetstat', 2, ['admin'], 'server', '', 'Resets the totals of INFO stats and QSTATS.'),
    help('config', 'server'),
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

const BY_NAME = new Map<string, CommandSpec>();
for (const s of COMMAND_SPECS as readonly CommandSpec[]) {
  BY_NAME.set(s.name, s);
  for (const c of s.subcommands ?? []) BY_NAME.set(c.name, c);
}

/** name is compared case-insensitively; subcommands are looked up as "parent|sub" */
export function findCommand(name: string): CommandSpec | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function arityOk(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}
