/**
 * Every setting of the broker, in one declarative table: name, type,
 * default, bounds, whether CONFIG SET may change it at runtime, one line of
 * doc. Flags (--name), env vars (RESQ_NAME) and the config file use the same
 * names. --help and docs/config.md are generated from this table.
 */

export type SettingType = 'int' | 'bool' | 'string' | 'enum' | 'float';

export interface SettingSpec {
  name: string;
  type: SettingType;
  default: string | number | boolean;
  min?: number;
  max?: number;
  values?: readonly string[];
  runtime: boolean;
  /** hidden from CONFIG GET (secrets) */
  secret?: boolean;
  doc: string;
}

const MiB = 1024 * 1024;

function int(name: string, def: number, min: number, max: number, runtime: boolean, doc: string): SettingSpec {
  return { name, type: 'int', default: def, min, max, runtime, doc };
}
function bool(name: string, def: boolean, runtime: boolean, doc: string): SettingSpec {
  return { name, type: 'bool', default: def, runtime, doc };
}
function str(name: string, def: string, runtime: boolean, doc: string, secret = false): SettingSpec {
  return { name, type: 'string', default: def, runtime, doc, secret };
}
function oneOf(name: string, def: string, values: readonly string[], runtime: boolean, doc: string): SettingSpec {
  return { name, type: 'enum', default: def, values, runtime, doc };
}
function float(name: string, def: number, min: number, max: number, runtime: boolean, doc: string): SettingSpec {
  return { name, type: 'float', default: def, min, max, runtime, doc };
}

const DAY = 86_400_000;

export const SETTINGS: readonly SettingSpec[] = [
  // network
  int('port', 7377, 0, 65535, false, 'TCP port of the RESP listener (0 = any free port, printed when ready).'),
  str('bind', '127.0.0.1', false, 'Address the RESP listener binds to.'),
  str('dir', './resq-data', false, 'Data directory (log segments, snapshots, manifest); created if missing.'),
  int('max-clients', 10000, 1, 1_000_000, true, 'Connections beyond this are refused with an error.'),
  int('timeout', 0, 0, 31_536_000, true, 'Close a connection idle for this many seconds (0 = never; blocked clients are not idle).'),
  str(
    'requirepass',
    '',
    true,
    'Password of the default user, for AUTH and HTTP (empty = nopass: connections act as the default user without AUTH). See docs/acl.md.',
    true,
  ),
  str(
    'aclfile',
    '',
    false,
    'File of ACL users (Redis format), loaded at start-up, written by ACL SAVE, reread by ACL LOAD. Empty = users from ACL SETUSER live until the broker stops.',
  ),
  int('acllog-max-len', 128, 0, 1_000_000, true, 'Entries kept in ACL LOG (denied commands and queues, failed logins).'),
  bool(
    'protected-mode',
    true,
    true,
    'With no password set and bind not a loopback address, refuse clients that are not on loopback (-DENIED) instead of serving the network unauthenticated.',
  ),
  // TLS (docs: README "Security")
  int(
    'tls-port',
    0,
    -1,
    65535,
    false,
    'Port of the TLS RESP listener, on the bind address beside the plain port (0 = off; -1 = any free port). The bound port is printed when ready (tls-port=T).',
  ),
  str('tls-cert-file', '', true, 'Server certificate (PEM; may hold the chain) for tls-port and tls-http. CONFIG SET reloads it.'),
  str('tls-key-file', '', true, 'Private key (PEM, unencrypted) of tls-cert-file. CONFIG SET reloads it.'),
  str(
    'tls-ca-cert-file',
    '',
    true,
    'CA certificates (PEM) client certificates must be signed by; needed unless tls-auth-clients is no. CONFIG SET reloads it.',
  ),
  oneOf(
    'tls-auth-clients',
    'yes',
    ['yes', 'no', 'optional'],
    true,
    'Client certificates on TLS connections: yes = required (signed by tls-ca-cert-file), optional = checked when sent, no = not asked for. Applies to new connections.',
  ),
  bool('tls-http', false, false, 'Serve the HTTP listener as HTTPS, with the TLS certificate and client-certificate rule of tls-port.'),
  // limits
  int('max-payload', 8 * MiB, 1, 512 * MiB, true, 'Largest payload ENQUEUE accepts; larger gets -TOOBIG.'),
  int('max-args', 1024 * 1024, 1, 16 * 1024 * 1024, true, 'Most elements in one request.'),
  int('max-bulk', 32 * MiB, 1024, 1024 * MiB, true, 'Largest bulk string in a request; larger is a protocol error.'),
  int('max-inline', 64 * 1024, 64, 16 * MiB, true, 'Longest inline (telnet-style) request line.'),
  int('max-query-buffer', 64 * MiB, 1024, 4096 * MiB, true, 'Unparsed input buffered per client; beyond it the client is closed.'),
  int('max-output-buffer', 64 * MiB, 1024, 4096 * MiB, true, 'Unsent replies buffered per client; a client that does not read past this is closed.'),
  int('max-args-unauth', 10, 1, 1024, true, 'Most elements in one request before AUTH succeeds (when requirepass is set).'),
  int('max-bulk-unauth', 16 * 1024, 64, MiB, true, 'Largest bulk before AUTH succeeds (when requirepass is set).'),
  // job defaults
  int('default-retries', 3, 0, 1_000_000, true, 'RETRIES of a job enqueued without it: re-deliveries allowed after failures.'),
  int('default-backoff', 1000, 0, 365 * DAY, true, 'Base of the exponential retry backoff in ms (retry k waits base * 2^(k-1)).'),
  int('default-backoff-max', 3_600_000, 0, 365 * DAY, true, 'Cap of the retry backoff in ms.'),
  float('backoff-jitter', 0.1, 0, 1, true, 'Random extra of up to this fraction of each backoff delay, to spread retries.'),
  int('default-lease', 30_000, 1, 365 * DAY, true, 'Lease (visibility timeout) in ms of a delivery when neither ENQUEUE nor CLAIM gives one.'),
  int('default-maxlen', 0, 0, Number.MAX_SAFE_INTEGER, true, 'MAXLEN of a queue that has no QCONFIG (0 = unlimited).'),
  bool('requeue-on-disconnect', false, true, 'Redeliver a job as soon as the connection that claimed it closes.'),
  str('priority-weights', '6,3,1', true, 'Claims per round for high,normal,low: a waiting lower priority is served at least once per round.'),
  // retention
  int('completed-retention', 3_600_000, 0, 3650 * DAY, true, 'Keep completed jobs (and results) this many ms, then remove them (0 = remove at once).'),
  int('completed-max', 10_000, 0, Number.MAX_SAFE_INTEGER, true, 'Keep at most this many completed jobs per queue (oldest removed first).'),
  int('dead-retention', 7 * DAY, 0, 3650 * DAY, true, 'Keep dead jobs this many ms.'),
  int('dead-max', 100_000, 0, Number.MAX_SAFE_INTEGER, true, 'Keep at most this many dead jobs per queue.'),
  int('cancelled-retention', DAY, 0, 3650 * DAY, true, 'Keep cancelled jobs this many ms.'),
  // persistence
  oneOf(
    'appendfsync',
    'always',
    ['always', 'everysec', 'no'],
    true,
    'always: reply after fsync (group commit); everysec: fsync once a second; no: leave it to the OS.',
  ),
  oneOf(
    'lease-durability',
    'written',
    ['written', 'fsync'],
    true,
    'Under appendfsync always, when CLAIM, ACK, NACK and TOUCH replies go out. written: once their records are written to the OS (they survive a broker crash; after a machine crash the job is delivered again); fsync: after the fsync, like every other reply.',
  ),
  int('segment-size', 64 * MiB, 64 * 1024, 4096 * MiB, true, 'Start a new log segment past this size.'),
  int('snapshot-log-size', 256 * MiB, 0, 1024 * 1024 * MiB, true, 'Take a snapshot automatically once the log since the last one exceeds this (0 = never).'),
  int('snapshot-slice', 2000, 100, 1_000_000, true, 'Jobs written per event-loop turn while a snapshot streams.'),
  bool('repair', false, false, 'At start-up, cut the log at the first corrupt record instead of refusing to start.'),
  // cron
  oneOf('cron-catchup', 'one', ['none', 'one'], true, 'Runs missed while the broker was down: none, or one catch-up run per recurring job.'),
  str('timezone', '', false, "Default time zone of CRON expressions (IANA name; empty = the server's)."),
  // operations
  int(
    'http-port',
    -1,
    -1,
    65535,
    false,
    'Port of the HTTP listener (/metrics, /health, /ready, /v1 API). -1 = the RESP port + 1 (7378 for the default 7377; any free port when port is 0); 0 turns it off. Start-up fails if it cannot be bound. The bound port is printed when ready (http-port=H); CONFIG GET shows the setting as given.',
  ),
  str('http-bind', '127.0.0.1', false, 'Address the HTTP listener binds to.'),
  int('http-header-timeout', 10_000, 100, 600_000, false, 'An HTTP client must send its request headers within this many ms, or gets 408 and is closed.'),
  int(
    'http-request-timeout',
    30_000,
    100,
    3_600_000,
    false,
    'An HTTP client must send its whole request (headers and body) within this many ms, or gets 408 and is closed.',
  ),
  bool('metrics-auth', false, true, 'yes: /metrics needs credentials (Basic or Bearer) of a user allowed to run INFO; no: open, like /health and /ready.'),
  bool('dashboard', true, true, 'Serve the web UI at / and /ui/ on the HTTP listener (its data comes from /v1, behind the same password).'),
  oneOf('log-level', 'info', ['debug', 'info', 'warn', 'error', 'silent'], true, 'Least severe log level printed.'),
  int('slowlog-slower-than', 10_000, -1, 1_000_000_000, true, 'Commands slower than this many microseconds go to SLOWLOG (-1 = off).'),
  int('slowlog-max-len', 128, 0, 1_000_000, true, 'Entries kept in SLOWLOG.'),
  int(
    'metrics-max-queues',
    100,
    0,
    100_000,
    true,
    'Per-queue series on /metrics (and queue_* lines in INFO) for at most this many queues, the ones with the most jobs; the rest are summed under queue="(other)" (INFO: queues_not_shown). Keeps a scrape small whatever the number of queues.',
  ),
];

export const SETTINGS_BY_NAME: ReadonlyMap<string, SettingSpec> = new Map(SETTINGS.map((s) => [s.name, s]));
// a setting listed twice (an easy slip when rows are added in parallel) would have two defaults
if (SETTINGS_BY_NAME.size !== SETTINGS.length) throw new Error('config/schema.ts lists a setting twice');

export type SettingValue = string | number | boolean;

export function envName(setting: string): string {
  return 'RESQ_' + setting.toUpperCase().replace(/-/g, '_');
}
