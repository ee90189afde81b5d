import type pinoModule from 'pino';
import type { Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** pino's level numbers ('silent': nothing is printed) */
const LEVELS: Record<string, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: Infinity };

/**
 * Structured logs with pino: one JSON line per event on stdout (synchronous,
 * so the last lines before an exit are not lost). The level follows the
 * log-level setting, also when CONFIG SET changes it. pino is loaded with the
 * first line printed: at log-level warn a start prints none, and loading pino
 * is a fair part of start-up (bench/results/perf-step-13-restart.md).
 */
export function createLogger(level: string): { log: Logger; setLevel(level: string): void } {
  let current = level;
  let threshold = LEVELS[level] ?? LEVELS.info;
  let base: PinoLogger | null = null;
  const open = (): PinoLogger => {
    if (base === null) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pino = require('pino') as typeof pinoModule;
      base = pino({ level: current, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 1, sync: true }));
    }
    return base;
  };
  return {
    log: (lvl, msg, fields) => {
      if (LEVELS[lvl] >= threshold) open()[lvl](fields ?? {}, msg);
    },
    setLevel: (l) => {
      current = l;
      threshold = LEVELS[l] ?? LEVELS.info;
      if (base !== null) base.level = l;
    },
  };
}
