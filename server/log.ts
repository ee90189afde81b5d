export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER = ['debug', 'info', 'warn', 'error', 'silent'];

export type Logger = (level: LogLevel, msg: string) => void;

/** One line per event on stdout (warnings and errors on stderr); the level can change at runtime. */
export function createLogger(currentLevel: () => string): Logger {
  return (level, msg) => {
    if (ORDER.indexOf(level) < ORDER.indexOf(currentLevel())) return;
    const line = `${new Date().toISOString()} ${process.pid} ${level} ${msg}\n`;
    if (level === 'warn' || level === 'error') process.stderr.write(line);
    else process.stdout.write(line);
  };
}
