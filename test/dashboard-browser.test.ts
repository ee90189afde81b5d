import { expect } from 'chai';
import Redis from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { BrokerProcess, startBroker } from './helpers/broker';
import { launchChromium } from './helpers/browser';
import { Clients, cmd, fields, waitFor } from './helpers/util';

/**
 * The dashboard in a real browser (headless Debian Chromium through
 * playwright-core) against a real broker: every click goes through the
 * page's own JavaScript, fetch and the /v1 API.
 */
describe('dashboard: in a real browser', function () {
  this.timeout(180_000);
  let browser: Browser;
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let r: Redis;
  let base = '';
  const pageErrors: string[] = [];

  async function newPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => void d.accept()); // the purge / delete confirmations
    page.setDefaultTimeout(20_000);
    return page;
  }

  before(async () => {
    browser = await launchChromium();
    broker = await startBroker({}, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await browser?.close();
    await broker?.cleanup();
  });
  afterEach(() => {
    expect(pageErrors, 'uncaught errors in the page').to.deep.equal([]);
  });

  it('overview -> queue -> page through 1,000 jobs -> a job; retry a dead job; pause; add a cron entry', async () => {
    const ids: string[] = [];
    const p = r.pipeline();
    for (let i = 0; i < 1000; i++) p.call('ENQUEUE', 'mail', JSON.stringify({ to: `user${i}@example.com`, n: i }));
    for (const [e, id] of (await p.exec())!) {
      expect(e).to.equal(null);
      ids.push(String(id));
    }
    const deadId = String(await cmd(r, 'ENQUEUE', 'billing', '{"invoice":42}', 'RETRIES', 0));
    await cmd(r, 'CLAIM', 'billing');
    await cmd(r, 'NACK', deadId, 'ERROR', 'card declined');

    const page = await newPage();
    await page.goto(`${base}/`);
    const mailRow = page.locator('tr[data-queue="mail"]');
    await expect(await mailRow.locator('td[data-state="ready"]').textContent()).to.equal('1,000');
    expect(await page.locator('tr[data-queue="billing"] td[data-state="dead"]').textContent()).to.equal('1');
    expect(await page.locator('[data-fact="appendfsync"] dd').textContent()).to.equal('always');

    // the queue page: 50 a page, through all 1,000
    await mailRow.locator('a').click();
    await page.locator('table.jobs').waitFor();
    const seen: string[] = [];
    for (;;) {
      await page.locator('.pager span.muted', { hasText: `${seen.length + 1}–` }).waitFor();
      seen.push(...(await page.locator('table.jobs tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')!))));
      const next = page.locator('.pager button', { hasText: 'next' });
      if (await next.isDisabled()) break;
      await next.click();
    }
    expect(seen).to.deep.equal(ids);
    // back one page works from the kept cursors
    await page.locator('.pager button', { hasText: 'previous' }).click();
    await page.locator('.pager span.muted', { hasText: '901–950 of 1,000' }).waitFor();

    // a job: every STATUS field and the payload as pretty JSON
    await page.locator(`table.jobs a[href="#/job/${ids[920]}"]`).click();
    await page.locator('tr[data-field="state"]').waitFor();
    expect(await page.locator('tr[data-field="queue"] td').textContent()).to.equal('mail');
    for (const f of ['id', 'priority', 'deliveries', 'retries', 'created-at', 'lease', 'backoff', 'expires-at']) {
      expect(await page.locator(`tr[data-field="${f}"]`).count(), f).to.equal(1);
    }
    expect(await page.locator('pre.payload.json').textContent()).to.equal(JSON.stringify({ to: 'user920@example.com', n: 920 }, null, 2));

    // retry a dead job: the state changes on the page and in the broker
    await page.goto(`${base}/ui/#/job/${deadId}`);
    await page.locator('h1 .badge', { hasText: 'dead' }).waitFor();
    expect(await page.locator('tr[data-field="last-error"] td').textContent()).to.equal('card declined');
    await page.locator('button.retry').click();
    await page.locator('h1 .badge', { hasText: 'ready' }).waitFor();
    expect(fields(await cmd(r, 'STATUS', deadId)).state).to.equal('ready');

    // pause a queue from its page
    await page.goto(`${base}/ui/#/queue/mail`);
    await page.locator('button', { hasText: 'Pause' }).click();
    await page.locator('h1 .badge.paused').waitFor();
    await page.locator('button', { hasText: 'Resume' }).waitFor();
    expect(fields(await cmd(r, 'QSTATS', 'mail')).paused).to.equal(1);

    // add a recurring job
    await page.locator('nav a', { hasText: 'Cron' }).click();
    await page.locator('p.empty').waitFor();
    await page.fill('input[name="name"]', 'nightly');
    await page.fill('input[name="expression"]', '0 3 * * *');
    await page.fill('input[name="queue"]', 'reports');
    await page.fill('input[name="payload"]', '{"kind":"daily"}');
    await page.fill('input[name="timezone"]', 'Europe/Paris');
    await page.selectOption('select[name="priority"]', 'low');
    await page.locator('form.cron button[type="submit"]').click();
    const row = page.locator('tr[data-name="nightly"]');
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).to.equal('Europe/Paris');
    const list = (await cmd(r, 'CRON', 'LIST')) as unknown[][];
    expect(list.map((e) => e.slice(0, 3))).to.deep.equal([['nightly', '0 3 * * *', 'reports']]);
    // a bad expression is refused by the server's validator, and says so
    await page.fill('input[name="name"]', 'broken');
    await page.fill('input[name="expression"]', 'every day');
    await page.fill('input[name="queue"]', 'reports');
    await page.locator('form.cron button[type="submit"]').click();
    await page.locator('#flash.error', { hasText: 'cron expression' }).waitFor();
    await page.close();
  });

  it('a queue page shows the flow-control settings and the largest groups (GROUP LIST over /v1)', async () => {
    await cmd(r, 'QCONFIG', 'tenants', 'RATE', 10, 'GROUP-CONCURRENCY', 1, 'GROUP-MAXLEN', 500);
    for (const [g, n] of [
      ['acme', 3],
      ['beta', 1],
      ['cyan', 2],
    ] as const)
      for (let i = 0; i < n; i++) await cmd(r, 'ENQUEUE', 'tenants', 'x', 'GROUP', g);
    await cmd(r, 'CLAIM', 'tenants', 'COUNT', 10); // one job of each group: group concurrency 1
    const page = await newPage();
    await page.goto(`${base}/ui/#/queue/tenants`);
    await page.locator('table.groups').waitFor();
    const rows = await page.locator('table.groups tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).to.deep.equal([
      ['acme', '3', '2', '1', '1'],
      ['cyan', '2', '1', '1', '1'],
      ['beta', '1', '0', '1', '1'],
    ]);
    expect(await page.locator('p.flow').textContent()).to.equal('Flow control: rate 10 per s · each group: concurrency 1, max length 500 · 3 groups');
    // a queue without limits or groups shows neither (a hash change: wait for the new page's first render)
    await page.goto(`${base}/ui/#/queue/mail`);
    await page.locator('h1', { hasText: 'mail' }).waitFor();
    await page.locator('nav.tabs a[data-state="ready"]', { hasText: '1,000' }).waitFor();
    await page.locator('table.groups').waitFor({ state: 'detached' });
    await page.locator('p.flow', { hasText: 'Flow control' }).waitFor({ state: 'detached' });
    expect(await page.locator('p.flow').textContent()).to.equal('');
    await page.close();
  });

  it('asks for the password when one is set, sends it on every call, and shows a refused action', async () => {
    const locked = await startBroker({ requirepass: 'sesame' }, { http: true });
    try {
      const lockedBase = `http://127.0.0.1:${locked.httpPort}`;
      const admin = new Redis({ port: locked.port, password: 'sesame', maxRetriesPerRequest: 0, retryStrategy: () => null });
      admin.on('error', () => {});
      try {
        await cmd(admin, 'ENQUEUE', 'secret-queue', 'x');
        // the API itself refuses without the password, whatever the page does
        const bare = await fetch(`${lockedBase}/v1/queues/secret-queue/pause`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
        expect(bare.status).to.equal(401);

        const page = await newPage();
        await page.goto(`${lockedBase}/`);
        await page.locator('form.login').waitFor();
        expect(await page.locator('table.queues').count()).to.equal(0);
        await page.fill('input[name="password"]', 'wrong');
        await page.locator('form.login button').click();
        await page.locator('form.login', { hasText: 'refused' }).waitFor();
        await page.fill('input[name="password"]', 'sesame');
        await page.locator('form.login button').click();
        await page.locator('tr[data-queue="secret-queue"]').waitFor();
        expect(await page.locator('#who').textContent()).to.match(/default/);

        // the password changes under the page: its next action is refused, and it asks again
        await page.locator('tr[data-queue="secret-queue"] a').click();
        await page.locator('button', { hasText: 'Pause' }).waitFor();
        await cmd(admin, 'CONFIG', 'SET', 'requirepass', 'open-sesame');
        // (the 2 s poll may meet the new password first and ask for it before the click lands: refused either way)
        await page
          .locator('button', { hasText: 'Pause' })
          .click({ timeout: 3000 })
          .catch(() => {});
        await page.locator('form.login', { hasText: 'refused' }).waitFor();
        expect(fields(await cmd(admin, 'QSTATS', 'secret-queue')).paused).to.equal(0);
        await page.fill('input[name="password"]', 'open-sesame');
        await page.locator('form.login button').click();
        await page.locator('button', { hasText: 'Pause' }).click();
        await waitFor(async () => fields(await cmd(admin, 'QSTATS', 'secret-queue')).paused === 1, 'paused from the page after logging in again', 10_000);
        await page.close();
      } finally {
        admin.disconnect();
      }
    } finally {
      await locked.cleanup();
    }
  });

  it('ACL users: a read-only user logs in with a name, sees no actions and is refused 403 NOPERM; an admin user acts', async () => {
    const locked = await startBroker({ requirepass: 'sesame' }, { http: true });
    try {
      const lockedBase = `http://127.0.0.1:${locked.httpPort}`;
      const root = new Redis({ port: locked.port, password: 'sesame', maxRetriesPerRequest: 0, retryStrategy: () => null });
      root.on('error', () => {});
      try {
        await cmd(root, 'ACL', 'SETUSER', 'viewer', 'on', '>viewpw', '+@read', '~*');
        await cmd(root, 'ACL', 'SETUSER', 'admin', 'on', '>adminpw', '+@all', '~*');
        // a password that is not Latin-1: the page sends its UTF-8 bytes, as a RESP client would
        await cmd(root, 'ACL', 'SETUSER', 'reader', 'on', '>mot-de-passe-✓-ü', '+@read', '~*');
        const deadId = String(await cmd(root, 'ENQUEUE', 'orders', '{"n":1}', 'RETRIES', 0));
        await cmd(root, 'CLAIM', 'orders');
        await cmd(root, 'NACK', deadId, 'ERROR', 'boom');
        const readyId = String(await cmd(root, 'ENQUEUE', 'orders', '{"n":2}'));

        const page = await newPage();
        const login = async (user: string, password: string) => {
          await page.locator('form.login').waitFor();
          await page.fill('input[name="user"]', user);
          await page.fill('input[name="password"]', password);
          await page.locator('form.login button').click();
        };
        await page.goto(`${lockedBase}/`);
        await login('viewer', 'viewpw');

        // the overview: the queues; the server panel (INFO, @dangerous) says why it is not shown
        await page.locator('tr[data-queue="orders"]').waitFor();
        expect(await page.locator('tr[data-queue="orders"] td[data-state="dead"]').textContent()).to.equal('1');
        expect(await page.locator('#who').textContent()).to.match(/^viewer \(read-only\)/);
        expect(await page.locator('section.server .noperm').textContent()).to.match(/no permissions to run the 'info' command/);

        // a queue page: its jobs, and none of its actions
        await page.locator('tr[data-queue="orders"] a').click();
        await page.locator(`table.jobs tr[data-id="${readyId}"]`).waitFor();
        const pause = page.locator('button', { hasText: 'Pause' });
        const retryAll = page.locator('button.retry-all');
        expect(await pause.count()).to.equal(1); // there, hidden by body.readonly
        expect(await pause.isVisible()).to.equal(false);
        expect(await retryAll.isVisible()).to.equal(false);
        expect(await page.locator('button', { hasText: 'Purge' }).isVisible()).to.equal(false);
        // a dead job: no retry button either
        await page.goto(`${lockedBase}/ui/#/job/${deadId}`);
        await page.locator('h1 .badge', { hasText: 'dead' }).waitFor();
        expect(await page.locator('button.retry').count()).to.equal(1);
        expect(await page.locator('button.retry').isVisible()).to.equal(false);

        // the API refuses the browser's own request with the viewer's credentials: 403 NOPERM, not 401
        const refused = await page.evaluate(async () => {
          const res = await fetch('/v1/queues/orders/pause', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa('viewer:viewpw')}` },
          });
          return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
        });
        expect(refused.status).to.equal(403);
        expect(refused.body.error.code).to.equal('NOPERM');
        expect(refused.body.error.message).to.match(/viewer has no permissions to run the 'pause' command/);
        expect(fields(await cmd(root, 'QSTATS', 'orders')).paused).to.equal(0);

        // log out; log in as the admin user: the actions are there
        await page.locator('#who button.logout').click();
        await login('admin', 'adminpw');
        await page.locator('h1 .badge', { hasText: 'dead' }).waitFor();
        expect(await page.locator('#who').textContent()).to.match(/^admin log out$/);
        expect(await page.locator('button.retry').isVisible()).to.equal(true);
        await page.goto(`${lockedBase}/ui/#/queue/orders`);
        await pause.waitFor({ state: 'visible' });
        expect(await retryAll.isVisible()).to.equal(true);

        // a permission taken away under the page: the action shows the server's NOPERM message, not a login form
        await cmd(root, 'ACL', 'SETUSER', 'admin', '-pause');
        await pause.click();
        await page.locator('#flash.error', { hasText: "admin has no permissions to run the 'pause' command" }).waitFor();
        expect(await page.locator('form.login').count()).to.equal(0);
        expect(fields(await cmd(root, 'QSTATS', 'orders')).paused).to.equal(0);
        await cmd(root, 'ACL', 'SETUSER', 'admin', '+pause');
        await pause.click();
        await page.locator('h1 .badge.paused').waitFor();
        expect(fields(await cmd(root, 'QSTATS', 'orders')).paused).to.equal(1);

        // a UTF-8 password goes as its UTF-8 bytes in Basic
        await page.locator('#who button.logout').click();
        await login('reader', 'mot-de-passe-✓-ü');
        await page.locator('#who', { hasText: 'reader (read-only)' }).waitFor();
        await page.close();
      } finally {
        root.disconnect();
      }
    } finally {
      await locked.cleanup();
    }
  });
});
