import { Settings } from '../config/settings';
import { Acl } from './acl/acl';
import { clientLine } from './commands/connection-commands';
import type { CommandContext, SecurityLog, ServerControl } from './context/command-context';
import { CronScheduler } from './cron/cron-scheduler';
import { dispatch } from './commands/dispatcher';
import { DeadlineTimer, monotonicClock } from './deadline-timer';
import { Engine } from './engine/engine';
import { engineConfig, retentionPolicy } from './engine-settings';
import { HttpServer, startHttp } from './http/http-server';
import type { Logger } from './log';
import { BrokerMetrics } from './metrics/broker-metrics';
import { CommandStats } from './metrics/command-stats';
import { Slowlog } from './metrics/slowlog';
import { BurstLog } from './net/error-burst';
import { ClientConnection } from './net/client-connection';
import { RespListener } from './net/listener';
import { PersistenceSlot } from './persistence-slot';
import { QueueRates } from './metrics/queue-rates';
import { ServerFacts, serverFacts } from './server-facts';
import type { Persistence } from './persistence/types';
import { exposureWarning, protectionOf } from './rules/protected-mode';
import type { GateState, Requester } from './rules/request-gate';
import { TlsCredentials, TlsError, tlsWanted } from './tls/tls-credentials';

/**
 * The composition root of a running broker: builds the engine, its timer,
 * the persistence slot, metrics, cron, the RESP listener and the HTTP
 * listener, and wires them. It is the CommandContext handlers see, and
 * does nothing else of its own but start-up and shutdown order.
 */
export class Broker implements CommandContext, ServerControl {
  readonly engine: Engine;
  readonly cron: CronScheduler;
  readonly persistence = new PersistenceSlot();
  readonly stats: CommandStats;
  readonly metrics: BrokerMetrics;
  readonly clients: RespListener;
  readonly gate: GateState;
  readonly server: ServerControl = this;
  readonly security: SecurityLog;
  readonly acl: Acl;
  http: HttpServer | null = null;
  /** per-queue enqueue / completion rates for the dashboard, sampled every 10 s once loaded */
  readonly rates: QueueRates;
  private loading = true;
  private readonly timer: DeadlineTimer;
  private shuttingDown: Promise<void> | null = null;

  constructor(
    readonly settings: Settings,
    readonly log: Logger,
    private readonly onExit: (code: number) => void = (code) => process.exit(code),
  ) {
    const clock = monotonicClock();
    this.stats = new CommandStats(
      new Slowlog(
        () => settings.int('slowlog-slower-than'),
        () => settings.int('slowlog-max-len'),
      ),
    );
    this.acl = new Acl({
      aclfile: () => settings.str('aclfile'),
      requirepass: () => settings.str('requirepass'),
      logMaxLen: () => settings.int('acllog-max-len'),
      describe: (who) => this.describeRequester(who),
      warn: (m) => log('warn', m),
    });
    this.gate = this.gateState();
    const authFailures = new BurstLog((line) => log('warn', line), 'authentication failure(s)');
    this.security = {
      authFailed: (addr, user) => authFailures.report(`authentication failure for user ${JSON.stringify(user)} from ${addr}`),
    };
    this.metrics = new BrokerMetrics(this);
    this.persistence.setFsyncObserver(this.metrics);
    this.timer = new DeadlineTimer(clock, (now) => this.engine.tick(now));
    this.engine = new Engine({
      config: engineConfig(settings),
      retention: retentionPolicy(settings),
      journal: this.persistence,
      clock,
      random: Math.random,
      metrics: this.metrics,
      onNextDeadline: (at) => this.timer.arm(at),
    });
    this.rates = new QueueRates(this.engine.store.queues);
    this.cron = new CronScheduler(this.engine, log, () => settings.str('cron-catchup'), settings.str('timezone'));
    this.clients = new RespListener({
      settings,
      log,
      dispatch: (conn, args) => dispatch(this, conn, args),
      position: this.persistence,
      closed: (conn) => this.engine.releaseOwner(conn.id, conn.requeueOnClose),
      counters: this.stats,
      authRequired: () => this.gate.authRequired,
    });
    this.persistence.onDurable((lsn) => this.releaseReplies(lsn, this.persistence.writtenLsn));
    this.persistence.onWritten((lsn) => this.clients.releaseReplies(this.persistence.durableLsn, lsn));
    settings.onChange((name) => {
      if (name === 'requirepass') this.acl.requirepassChanged();
      this.engine.reconfigure(engineConfig(settings), retentionPolicy(settings));
      if (name.startsWith('max-') || name === 'requirepass') this.clients.refreshLimits();
    });
  }

  /** the gate reads these live, on every request */
  private gateState(): GateState {
    const loading = () => this.loading;
    const log = this.persistence;
    const acl = this.acl;
    const jobs = { queueOf: (id: string) => this.engine.status(id)?.queue };
    return {
      acl,
      jobs,
      get loading() {
        return loading();
      },
      get logWritable() {
        return log.writable;
      },
      get logError() {
        return log.lastError;
      },
      get authRequired() {
        return acl.openDefault === undefined;
      },
    };
  }

  /** ACL LOG's context and client-info: a RESP connection's CLIENT LIST line, or an HTTP request's peer */
  private describeRequester(who: Requester): { context: string; clientInfo: string } {
    if (who instanceof ClientConnection) return { context: 'toplevel', clientInfo: clientLine(this, who) };
    const addr = (who as { addr?: string }).addr ?? '';
    return { context: 'http', clientInfo: `addr=${addr} user=${who.user}` };
  }

  get port(): number {
    return this.clients.port;
  }

  /** switches from the loading placeholder to the real log once start-up replay is done */
  attachPersistence(p: Persistence): void {
    this.persistence.attach(p);
  }

  finishLoading(): void {
    this.loading = false;
    this.engine.afterLoad();
    this.cron.start();
    this.rates.start();
  }

  /**
   * RESP first, then TLS RESP (tls-port 0 = off), then HTTP (http-port 0 =
   * off); if TLS files do not load (TlsError) or a listener cannot bind, the
   * broker does not start.
   */
  async listen(): Promise<number> {
    const s = this.settings;
    const tls = tlsWanted(s) ? new TlsCredentials(s, this.log) : null; // files are checked before anything listens
    await this.clients.listen(s.int('port'), s.str('bind'));
    try {
      if (tls && s.int('tls-port') !== 0) await this.listenTls(tls);
      this.http = await startHttp({
        api: this,
        gate: this.gate,
        auth: this.acl,
        metrics: this.metrics,
        position: this.persistence,
        settings: s,
        log: this.log,
        tls: s.bool('tls-http') ? tls : null,
      });
    } catch (e) {
      this.clients.stopAccepting('server is not starting');
      throw e;
    }
    for (const bind of this.http ? (['bind', 'http-bind'] as const) : (['bind'] as const)) {
      const exposed = exposureWarning(protectionOf(s, bind));
      if (exposed !== null) this.log('warn', exposed);
    }
    return this.port;
  }

  private async listenTls(tls: TlsCredentials): Promise<void> {
    const s = this.settings;
    const port = s.int('tls-port');
    try {
      await this.clients.listenTls(port === -1 ? 0 : port, s.str('bind'), tls);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new TlsError(
        err.code === 'EADDRINUSE' ? `tls-port ${port} is already in use` : `cannot listen on ${s.str('bind')}:${port} (tls-port): ${err.message}`,
      );
    }
    this.log('info', `TLS listening on ${s.str('bind')}:${this.clients.tlsPort} (client certificates: ${s.str('tls-auth-clients')})`, {
      tlsPort: this.clients.tlsPort,
    });
  }

  private releaseReplies(lsn: number, writtenLsn: number): void {
    this.clients.releaseReplies(lsn, writtenLsn);
    this.http?.releaseDurable(lsn); // HTTP responses wait for the log too
  }

  serverFacts(): ServerFacts {
    return serverFacts(this);
  }

  resetStats(): void {
    this.stats.reset();
    this.engine.resetCounters();
  }

  /**
   * Graceful stop: refuse new connections, answer what was already read,
   * flush and fsync the log, snapshot unless NOSAVE, close clients, exit 0.
   * Active jobs keep their leases across the restart (never requeued here).
   */
  shutdown(mode: 'save' | 'nosave', why: string): Promise<void> {
    if (this.shuttingDown) return this.shuttingDown;
    this.shuttingDown = (async () => {
      this.log('info', `shutting down (${why}, ${mode})`);
      this.clients.stopAccepting('server is shutting down');
      this.http?.close(); // stop accepting; requests in flight are released with the replies below
      this.metrics.stop();
      this.timer.stop();
      this.cron.stop();
      this.rates.stop();
      const force = setTimeout(() => {
        this.log('error', 'shutdown took longer than 10 s; exiting');
        this.onExit(1);
      }, 10_000);
      force.unref();
      let code = 0;
      try {
        if (mode === 'save' && !this.loading) await this.persistence.save();
        await this.persistence.close();
      } catch (e) {
        this.log('error', `shutdown: ${(e as Error).message}`);
        code = 1;
      }
      this.releaseReplies(Infinity, Infinity);
      await this.clients.closeAll(2000);
      clearTimeout(force);
      this.log('info', 'bye');
      this.onExit(code);
    })();
    return this.shuttingDown;
  }
}
