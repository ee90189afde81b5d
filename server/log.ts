import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/**
 * Structured logs with pino: one JSON line per event on stdout (synchronous,
 * so the last lines before an exit are not lost). The level follows the
 * log-level setting, also when CONFIG SET changes it.
 */
export function createLogger(level: string): { log: Logger; setLevel(level: string): void } {
  const base = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 1, sync: true }));
  return {
    log: (lvl, msg, fields) => base[lvl](fields ?? {}, msg),
    setLevel: (l) => {
      base.level = l;
    },
  };
}
