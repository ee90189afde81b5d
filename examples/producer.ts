/**
 * A producer service: enqueues a few jobs and waits for one result.
 *
 *   RESQ_URL=redis://broker-host:7377 node dist/examples/producer.js
 *
 * (rediss://... once the broker has TLS.)
 */
import { FullError, Queue } from 'resq';

interface Email {
  to: string;
  subject: string;
}

async function main(): Promise<void> {
  // connection: process.env.RESQ_URL, else redis://127.0.0.1:7377
  const queue = new Queue<Email, { messageId: string }>(process.env.RESQ_URL);
  try {
    // one job, with options: retried up to 5 times, 1 s, 2 s, 4 s ... at most 1 min apart
    const id = await queue.enqueue(
      'emails',
      { to: 'ada@example.com', subject: 'Welcome' },
      {
        priority: 'high',
        retries: 5,
        backoff: { base: 1000, max: 60_000 },
        lease: 30_000,
        id: 'welcome-ada', // idempotent: enqueueing the same id again returns it, no second job
      },
    );
    console.log('enqueued', id);

    // many jobs in one round trip per 1000
    const ids = await queue.enqueueMany(
      'emails',
      Array.from({ length: 100 }, (_, i) => ({
        payload: { to: `user${i}@example.com`, subject: 'Newsletter' },
        options: { priority: 'low' as const },
      })),
    );
    console.log('enqueued', ids.length, 'newsletters');

    // a job for tomorrow
    await queue.enqueue('emails', { to: 'bob@example.com', subject: 'Reminder' }, { at: new Date(Date.now() + 86_400_000) });

    // request/reply: wait up to 10 s for the welcome mail to be sent
    const status = await queue.waitFor(id, 10_000);
    if (status === null) console.log('not done yet; state:', (await queue.status(id))?.state);
    else console.log(`job ${id} is ${status.state}`, status.result ?? status.lastError);

    console.log('stats', await queue.stats('emails'));
  } catch (err) {
    if (err instanceof FullError) console.error('the queue is full, try later');
    else throw err;
  } finally {
    await queue.close();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
