import { parsePriorityWeights, Settings } from '../config/settings';
import type { CommandContext, SecurityLog, ServerControl } from './context/command-context';
import { CronScheduler } from './cron/cron-scheduler';
import { dispatch } from './commands/dispatcher';
import { DeadlineTimer, monotonicClock } from './deadline-timer';
import { Engine, EngineConfig } from './engine/engine';
import { RetentionPolicy } from './engine/job-store';
import { HttpServer, startHttp } from './http/http-server';
import type { Logger } from './log';
import { BrokerMetrics } from './metrics/broker-metrics';
import { CommandStats } from './metrics/command-stats';
import { Slowlog } from './metrics/slowlog';
import { BurstLog } from './net/error-burst';
import { RespListener } from './net/listener';
import { PersistenceSlot } from './persistence-slot';
import { QueueRates } from './metrics/queue-rates';
import { ServerFacts, serverFacts } from './server-facts';
import type { Persistence } from './persistence/types';
import type { GateState } from './rules/request-gate';

function engineConfig(s: Settings): EngineConfig {
  return {
    defaultRetries: s.int('default-retries'),
    defaultBackoff: s.int('default-backoff'),
    defaultBackoffMax: s.int('default-backoff-max'),
    backoffJitter: s.get('backoff-jitter') as number,
    defaultLease: s.int('default-lease'),
    defaultMaxlen: s.int('default-maxlen'),
    requeueOnDisconnect: s.bool('requeue-on-disconnect'),
    priorityWeights: parsePriorityWeights(s.str('priority-weights')),
  };
}

function retentionPolicy(s: Settings): RetentionPolicy {
  return {
    completedMs: s.int('completed-retention'),
    completedMax: s.int('completed-max'),
    deadMs: s.int('dead-retention'),
    deadMax: s.int('dead-max'),
    cancelledMs: s.int('cancelled-retention'),
  };
}

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
      closed: (conn) => this.engine.releaseOwner(conn.id),
      counters: this.stats,
    });
    this.persistence.onDurable((lsn) => this.releaseReplies(lsn));
    settings.onChange((name) => {
      this.engine.reconfigure(engineConfig(settings), retentionPolicy(settings));
      if (name.startsWith('max-') || name === 'requirepass') this.clients.refreshLimits();
    });
  }

  /** the gate reads these live, on every request */
  private gateState(): GateState {
    const loading = () => this.loading;
    const log = this.persistence;
    const settings = this.settings;
    return {
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
        return settings.str('requirepass') !== '';
      },
    };
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

  /** RESP first, then HTTP (http-port 0 = off); if HTTP cannot listen, the broker does not start */
  async listen(): Promise<number> {
    await this.clients.listen(this.settings.int('port'), this.settings.str('bind'));
    try {
      this.http = await startHttp({
        api: this,
        gate: this.gate,
        metrics: this.metrics,
        position: this.persistence,
        settings: this.settings,
        log: this.log,
      });
    } catch (e) {
      this.clients.stopAccepting('server is not starting');
      throw e;
    }
    return this.port;
  }

  private releaseReplies(lsn: number): void {
    this.clients.releaseReplies(lsn);
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
      this.releaseReplies(Infinity);
      await this.clients.closeAll(2000);
      clearTimeout(force);
      this.log('info', 'bye');
      this.onExit(code);
    })();
    return this.shuttingDown;
  }
}
