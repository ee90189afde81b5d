import * as os from 'os';
import type { CommandContext } from '../context/command-context';
import { SERVER_VERSION } from '../version';
import { queueStatsFields } from '../rules/queue-fields';

type Section = (ctx: CommandContext) => Array<[string, string | number]>;

const MB = 1024 * 1024;

/** queue names are bytes: show printable ASCII as is, escape the rest, so one queue stays one line */
export function printableName(name: string): string {
  return name.replace(/[^\x21-\x7e]|[:,=\\]/g, (ch) => '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0'));
}

const SECTIONS = new Map<string, Section>(
  Object.entries({
    server: (ctx) => [
      ['resq_version', SERVER_VERSION],
      // tools that parse INFO expect a Redis version; 7.0 is the command dialect resq follows
      ['redis_version', '7.0.0'],
      ['redis_mode', 'standalone'],
      ['os', `${os.type()} ${os.release()} ${os.arch()}`],
      ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
      ['process_id', process.pid],
      ['node_version', process.version],
      ['tcp_port', ctx.server.port],
      ['uptime_in_seconds', Math.floor((Date.now() - ctx.stats.startedAt) / 1000)],
      ['uptime_in_days', Math.floor((Date.now() - ctx.stats.startedAt) / 86_400_000)],
      ['executable', process.argv[1] ?? ''],
      ['data_dir', ctx.settings.str('dir')],
    ],
    clients: (ctx) => {
      const waiting = ctx.engine.waiterCounts();
      return [
        ['connected_clients', ctx.clients.size],
        ['blocked_clients', [...ctx.clients.all()].filter((c) => c.isBlocked).length],
        ['maxclients', ctx.settings.int('max-clients')],
        ['blocked_claims', waiting.claim],
        ['blocked_enqueues', waiting.enqueue],
        ['blocked_waitjobs', waiting.job],
      ];
    },
    memory: (ctx) => {
      const m = process.memoryUsage();
      const arena = ctx.engine.payloadStats();
      // external already includes arrayBuffers (the payload arena's chunks among them)
      return [
        ['used_memory', m.heapUsed + m.external],
        ['used_memory_human', `${((m.heapUsed + m.external) / MB).toFixed(2)}M`],
        ['used_memory_rss', m.rss],
        ['used_memory_rss_human', `${(m.rss / MB).toFixed(2)}M`],
        ['used_memory_heap_total', m.heapTotal],
        ['payload_arena_bytes', arena.bytes],
        ['payload_arena_used_bytes', arena.used],
        ['payload_arena_payloads', arena.payloads],
      ];
    },
    persistence: (ctx) => [['loading', ctx.gate.loading ? 1 : 0], ['async_loading', 0], ...ctx.persistence.info()],
    stats: (ctx) => {
      let enqueued = 0;
      let acked = 0;
      let failed = 0;
      let expired = 0;
      for (const q of ctx.engine.store.queues.values()) {
        enqueued += q.counters.enqueued;
        acked += q.counters.acked;
        failed += q.counters.failed;
        expired += q.counters.expiredLeases;
      }
      return [
        ['total_connections_received', ctx.stats.connectionsReceived],
        ['total_commands_processed', ctx.stats.commandsProcessed],
        ['rejected_connections', ctx.stats.rejectedConnections],
        ['total_error_replies', ctx.stats.errorReplies],
        ['total_jobs_enqueued', enqueued],
        ['total_jobs_acked', acked],
        ['total_deliveries_failed', failed],
        ['total_leases_expired', expired],
      ];
    },
    queues: (ctx) => {
      const out: Array<[string, string | number]> = [
        ['queues', ctx.engine.store.queues.size],
        ['jobs', ctx.engine.store.jobs.size],
        ['recurring_jobs', ctx.engine.store.crons.size],
      ];
      const defaultMaxlen = ctx.settings.int('default-maxlen');
      const max = ctx.settings.int('metrics-max-queues');
      let queues = [...ctx.engine.store.queues.values()];
      if (queues.length > max) {
        // the ones with the most jobs, as /metrics shows them; a sort, not a walk of the jobs
        queues = queues.sort((a, b) => b.jobCount - a.jobCount).slice(0, max);
        out.push(['queues_not_shown', ctx.engine.store.queues.size - max]);
      }
      for (const q of queues) {
        const fields = queueStatsFields(q, defaultMaxlen).map(([k, v]) => `${k}=${v}`);
        out.push([`queue_${printableName(q.name)}`, fields.join(',')]);
      }
      return out;
    },
    commandstats: (ctx) =>
      [...ctx.stats.commands.entries()].map(([name, s]) => [
        `cmdstat_${name}`,
        `calls=${s.calls},usec=${Math.round(s.usec)},usec_per_call=${(s.usec / Math.max(1, s.calls)).toFixed(2)},rejected_calls=${s.rejected},failed_calls=${s.failed}`,
      ]),
  } satisfies Record<string, Section>),
);

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'queues'];

export function infoText(ctx: CommandContext, requested: string[]): string {
  let names = requested.map((s) => s.toLowerCase());
  if (names.length === 0 || names.includes('default')) names = DEFAULT_SECTIONS;
  else if (names.includes('all') || names.includes('everything')) names = [...SECTIONS.keys()];
  const parts: string[] = [];
  for (const name of names) {
    const section = SECTIONS.get(name);
    if (!section) continue;
    const title = name[0].toUpperCase() + name.slice(1);
    parts.push(
      `# ${title}\r\n` +
        section(ctx)
          .map(([k, v]) => `${k}:${v}\r\n`)
          .join(''),
    );
  }
  return parts.join('\r\n');
}
