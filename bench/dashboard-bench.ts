/**
 * Dashboard load time on a big broker: 100 queues, 1,000,000 jobs.
 * Times what a browser fetches for the overview (HTML, its modules and CSS,
 * whoami, /v1/overview, /v1/server) and for a queue page (QSTATS + the first
 * JOBS page of 50), over plain HTTP from this process, then the same pages in
 * headless Chromium from navigation to the rendered table. Also /v1/overview
 * on an empty broker, to show it does not walk the jobs.
 * Run: npm run build && node dist/bench/dashboard-bench.js [--jobs 1000000] [--queues 100] [--rounds 30] [--out bench/results/dashboard-bench.md]
 */
import * as fs from 'fs';
import * as os from 'os';
import Redis from 'ioredis';
import { startBroker } from '../test/helpers/broker';
import { launchChromium } from '../test/helpers/browser';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const UI_FILES = [
  '/ui/app.js',
  '/ui/api.js',
  '/ui/dom.js',
  '/ui/style.css',
  '/ui/pages/overview.js',
  '/ui/pages/queue.js',
  '/ui/pages/job.js',
  '/ui/pages/cron.js',
];

async function fetchAll(base: string, paths: string[]): Promise<number> {
  let bytes = 0;
  await Promise.all(
    paths.map(async (p) => {
      const res = await fetch(base + p);
      if (!res.ok) throw new Error(`${p}: ${res.status}`);
      bytes += (await res.arrayBuffer()).byteLength;
    }),
  );
  return bytes;
}

/** what the browser fetches for the overview, in its order: the HTML, then its files, then the data */
async function overviewLoad(base: string): Promise<number> {
  let bytes = await fetchAll(base, ['/ui/']);
  bytes += await fetchAll(base, UI_FILES);
  bytes += await fetchAll(base, ['/v1/whoami']);
  bytes += await fetchAll(base, ['/v1/overview', '/v1/server']);
  return bytes;
}

async function queueLoad(base: string, queue: string, cursor = '0'): Promise<number> {
  return fetchAll(base, [`/v1/queues/${queue}`, `/v1/queues/${queue}/jobs?state=ready&order=asc&count=50&cursor=${encodeURIComponent(cursor)}`]);
}

async function timeIt(rounds: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; max: number }> {
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], p95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))], max: ms[ms.length - 1] };
}

const f = (n: number) => n.toFixed(1);

async function main(): Promise<void> {
  const total = Number(arg('--jobs', '1000000'));
  const queues = Number(arg('--queues', '100'));
  const rounds = Number(arg('--rounds', '30'));
  const out = arg('--out', '');
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };

  // appendfsync no while filling: the bench is about reads, not about how fast 1M jobs get on disk
  const broker = await startBroker({ appendfsync: 'no', 'snapshot-log-size': '0', 'default-maxlen': '0' }, { http: true });
  const empty = await startBroker({}, { http: true });
  try {
    const base = `http://127.0.0.1:${broker.httpPort}`;
    const payload = JSON.stringify({ to: 'someone@example.com', body: 'x'.repeat(60) });
    const conns = Array.from({ length: 4 }, () => new Redis(broker.port));
    const t0 = Date.now();
    const perQueue = Math.floor(total / queues);
    await Promise.all(
      conns.map(async (r, c) => {
        for (let qi = c; qi < queues; qi += conns.length) {
          for (let done = 0; done < perQueue; done += 5000) {
            const p = r.pipeline();
            for (let i = 0; i < Math.min(5000, perQueue - done); i++) p.call('ENQUEUE', `queue-${qi}`, payload);
            await p.exec();
          }
        }
      }),
    );
    const fillMs = Date.now() - t0;
    const dbsize = Number(await conns[0].call('DBSIZE'));
    // some jobs in other states, so the page is not all one column
    await conns[0].call('PAUSE', 'queue-1');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${broker.proc.pid}/status`, 'utf8'))![1]) / 1024;
    for (const r of conns) r.disconnect();

    // a cursor in the middle of a queue, to show a deep page costs what the first does
    let cursor = '0';
    for (let i = 0; i < 100; i++)
      cursor = ((await (await fetch(`${base}/v1/queues/queue-7/jobs?state=ready&count=50&cursor=${cursor}`)).json()) as { cursor: string }).cursor;

    await overviewLoad(base); // warm-up (JIT), not counted
    const overviewBytes = await overviewLoad(base);
    const ov = await timeIt(rounds, () => overviewLoad(base));
    const ovData = await timeIt(rounds, () => fetchAll(base, ['/v1/overview']));
    const qp = await timeIt(rounds, () => queueLoad(base, 'queue-7'));
    const deep = await timeIt(rounds, () => queueLoad(base, 'queue-7', cursor));
    const emptyBase = `http://127.0.0.1:${empty.httpPort}`;
    await fetchAll(emptyBase, ['/v1/overview']);
    const ovEmpty = await timeIt(rounds, () => fetchAll(emptyBase, ['/v1/overview']));

    // the same pages in a real browser: navigation start -> the table is rendered
    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    /** the page's own clock: navigation start -> app.js marks 'resq:rendered' when the first page is in the DOM */
    const browserRuns = async (url: string, selector: string) => {
      const ms: number[] = [];
      const outside: number[] = [];
      for (let i = 0; i < Math.max(5, Math.floor(rounds / 3)); i++) {
        await page.goto('about:blank');
        const t = performance.now();
        await page.goto(url);
        await page.locator(selector).first().waitFor();
        outside.push(performance.now() - t);
        ms.push(await page.evaluate(() => globalThis.performance.getEntriesByName('resq:rendered')[0].startTime));
      }
      ms.sort((a, b) => a - b);
      outside.sort((a, b) => a - b);
      return { p50: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1], outside: outside[Math.floor(outside.length / 2)] };
    };
    const bOv = await browserRuns(`${base}/ui/`, 'tr[data-queue="queue-99"]');
    const bQ = await browserRuns(`${base}/ui/#/queue/queue-7`, 'table.jobs tbody tr');
    await browser.close();

    say(`# Dashboard load time: ${queues} queues, ${total.toLocaleString('en-US')} jobs`);
    say('');
    say(`Command: \`npm run build && node dist/bench/dashboard-bench.js --jobs ${total} --queues ${queues} --rounds ${rounds}${out ? ` --out ${out}` : ''}\``);
    say('');
    say(
      `Machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, Node ${process.version}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')} at the end (shared machine). ${new Date().toISOString().slice(0, 10)}.`,
    );
    say(
      `Broker: ${dbsize.toLocaleString('en-US')} jobs (${perQueue.toLocaleString('en-US')} ready jobs of ${payload.length} bytes in each of ${queues} queues, one queue paused), RSS ${rss.toFixed(0)} MB; filled in ${(fillMs / 1000).toFixed(1)} s with pipelined ENQUEUE (appendfsync no while filling). Client and broker on the same host, over TCP.`,
    );
    say('');
    say(`| what (${rounds} rounds, sequential) | p50 ms | p95 ms | max ms |`);
    say('|---|---|---|---|');
    say(
      `| **overview**: HTML, then ${UI_FILES.length} module/CSS files in parallel, then /v1/whoami, then /v1/overview + /v1/server (${(overviewBytes / 1024).toFixed(0)} KB) | **${f(ov.p50)}** | ${f(ov.p95)} | ${f(ov.max)} |`,
    );
    say(`| /v1/overview alone (100 queues: counts, settings, 61 rate buckets each) | ${f(ovData.p50)} | ${f(ovData.p95)} | ${f(ovData.max)} |`);
    say(`| /v1/overview alone on an empty broker (for comparison: it does not walk jobs) | ${f(ovEmpty.p50)} | ${f(ovEmpty.p95)} | ${f(ovEmpty.max)} |`);
    say(
      `| **queue page**: QSTATS + the first JOBS page of 50 (${perQueue.toLocaleString('en-US')} ready jobs) | **${f(qp.p50)}** | ${f(qp.p95)} | ${f(qp.max)} |`,
    );
    say(`| the same, page 101 (a cursor after 5,000 jobs) | ${f(deep.p50)} | ${f(deep.p95)} | ${f(deep.max)} |`);
    say('');
    say(
      'Headless Chromium (Debian chromium via playwright-core), measured by the page itself: from navigation start to the first page in the DOM (the `resq:rendered` performance mark app.js sets): HTML, modules, whoami and the data fetches, rendering. The last column is the same seen from the driving process (`page.goto` until the table is found), which adds the DevTools-protocol round trips of playwright.',
    );
    say('');
    say('| page | p50 ms | max ms | seen from playwright, p50 ms |');
    say('|---|---|---|---|');
    say(`| overview, ${queues} queue rows | **${f(bOv.p50)}** | ${f(bOv.max)} | ${f(bOv.outside)} |`);
    say(`| queue page, 50 job rows | **${f(bQ.p50)}** | ${f(bQ.max)} | ${f(bQ.outside)} |`);
    say('');
    say(
      'Why it is cheap: QUEUES/QSTATS read counters each queue keeps (list sizes, totals), so the overview costs O(queues), not O(jobs); a JOBS page starts at its cursor (the last job shown, found by id in O(1)) and reads COUNT jobs; the UI files are read once at start and served from memory.',
    );
    if (out) fs.writeFileSync(out, lines.join('\n') + '\n');
  } finally {
    await broker.cleanup();
    await empty.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
