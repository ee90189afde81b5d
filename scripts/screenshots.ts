/**
 * Screenshots of the dashboard for the README: starts a broker with some
 * traffic (a few queues, jobs in every state, a cron entry), opens the
 * overview, a queue and a job in headless Chromium and writes docs/img/*.png.
 * Run: npm run screenshots  (about a minute: it lets the rate chart fill a few 10 s buckets)
 */
import * as path from 'path';
import Redis from 'ioredis';
import { startBroker } from '../test/helpers/broker';
import { launchChromium } from '../test/helpers/browser';

const OUT = path.resolve(__dirname, '../../docs/img');
const SECONDS = Number(process.env.SCREENSHOT_TRAFFIC_SECONDS ?? 45);

async function main(): Promise<void> {
  const broker = await startBroker({}, { http: true });
  const r = new Redis(broker.port);
  const base = `http://127.0.0.1:${broker.httpPort}`;
  try {
    const p = r.pipeline();
    for (let i = 0; i < 240; i++) p.call('ENQUEUE', 'emails', JSON.stringify({ to: `user${i}@example.com`, template: 'welcome', locale: i % 3 ? 'en' : 'fr' }));
    for (let i = 0; i < 40; i++)
      p.call('ENQUEUE', 'thumbnails', JSON.stringify({ image: `uploads/${1000 + i}.jpg`, sizes: [64, 256] }), 'PRIORITY', i % 4 ? 'normal' : 'high');
    for (let i = 0; i < 12; i++) p.call('ENQUEUE', 'webhooks', JSON.stringify({ url: `https://hooks.example.com/${i}`, event: 'order.paid' }), 'RETRIES', 0);
    for (let i = 0; i < 6; i++) p.call('ENQUEUE', 'reports', JSON.stringify({ kind: 'weekly', team: i }), 'DELAY', 3_600_000 * (i + 1));
    await p.exec();
    // dead webhooks, with an error each
    const claimed = (await r.call('CLAIM', 'webhooks', 'COUNT', 7)) as string[][];
    for (const [id] of claimed) await r.call('NACK', id, 'ERROR', 'POST https://hooks.example.com: 503 Service Unavailable');
    await r.call('CRON', 'SET', 'weekly-report', '0 6 * * 1', 'reports', '{"kind":"weekly"}', 'TZ', 'Europe/Berlin', 'PRIORITY', 'low');
    await r.call('CRON', 'SET', 'cleanup', '*/15 * * * *', 'maintenance', '{"task":"cleanup"}');
    await r.call('PAUSE', 'thumbnails');
    await r.call('QCONFIG', 'emails', 'MAXLEN', 100000);

    // traffic for the rate chart: enqueue and complete at a varying pace
    const started = Date.now();
    let tick = 0;
    while (Date.now() - started < SECONDS * 1000) {
      const n = 5 + Math.round(10 * (1 + Math.sin(tick / 6)));
      const b = r.pipeline();
      for (let i = 0; i < n; i++) b.call('ENQUEUE', 'emails', JSON.stringify({ to: `late${tick}-${i}@example.com`, template: 'digest' }));
      await b.exec();
      const jobs = (await r.call('CLAIM', 'emails', 'COUNT', n - 2)) as string[][];
      const acks = r.pipeline();
      for (const [id] of jobs) acks.call('ACK', id, 'RESULT', '{"sent":true}');
      await acks.exec();
      tick++;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await r.call('CLAIM', 'emails', 'COUNT', 3, 'LEASE', 600000);

    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
    await page.goto(`${base}/ui/`);
    await page.locator('tr[data-queue="webhooks"]').waitFor();
    await page.screenshot({ path: path.join(OUT, 'dashboard-overview.png') });
    await page.goto(`${base}/ui/#/queue/webhooks?state=dead&order=desc`);
    await page.locator('table.jobs tbody tr').first().waitFor();
    await page.screenshot({ path: path.join(OUT, 'dashboard-queue.png') });
    const firstDead = await page.locator('table.jobs tbody tr').first().getAttribute('data-id');
    await page.goto(`${base}/ui/#/job/${encodeURIComponent(firstDead!)}`);
    await page.locator('pre.payload').waitFor();
    await page.screenshot({ path: path.join(OUT, 'dashboard-job.png'), fullPage: true });
    await page.goto(`${base}/ui/#/cron`);
    await page.locator('table.crons').waitFor();
    await page.screenshot({ path: path.join(OUT, 'dashboard-cron.png') });
    await browser.close();
    console.log(`wrote ${OUT}/dashboard-{overview,queue,job,cron}.png`);
  } finally {
    r.disconnect();
    await broker.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
