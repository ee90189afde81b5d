/**
 * How long a page-cache write blocks the calling thread while fdatasyncs of
 * the same file run (as the write-ahead log would see with fs.writeSync on
 * the event loop): appends of --bytes every timer turn for --seconds, one
 * fdatasync at a time beside them on the threadpool.
 *   npm run build && node dist/bench/write-stall-probe.js [--bytes 3000] [--seconds 3] [--dir .]
 * Used for bench/results/perf-step-11-lease-durability.md.
 */
import * as fs from 'fs';
import * as path from 'path';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const file = path.join(arg('dir', '.'), `write-stall-probe-${process.pid}.bin`);
const fd = fs.openSync(file, 'w');
const buf = Buffer.alloc(Number(arg('bytes', '3000')), 'x');
const end = Date.now() + Number(arg('seconds', '3')) * 1000;
const micros: number[] = [];
let pos = 0;
let syncing = false;
let syncs = 0;

function step(): void {
  const t = process.hrtime.bigint();
  fs.writeSync(fd, buf, 0, buf.length, pos);
  micros.push(Number(process.hrtime.bigint() - t) / 1000);
  pos += buf.length;
  if (!syncing) {
    syncing = true;
    fs.fdatasync(fd, () => {
      syncing = false;
      syncs++;
    });
  }
  if (Date.now() < end) setTimeout(step, 0);
  else report();
}

function report(): void {
  micros.sort((a, b) => a - b);
  const q = (p: number) => micros[Math.min(micros.length - 1, Math.floor(micros.length * p))].toFixed(1);
  const over = (us: number) => micros.filter((m) => m > us).length;
  console.log(
    `${micros.length} writes of ${buf.length} B, ${syncs} fdatasyncs beside them; writeSync µs p50 ${q(0.5)} p99 ${q(0.99)} p99.9 ${q(0.999)} max ${micros[micros.length - 1].toFixed(1)}; over 1 ms: ${over(1000)}, over 5 ms: ${over(5000)}`,
  );
  fs.closeSync(fd);
  fs.unlinkSync(file);
}

step();
