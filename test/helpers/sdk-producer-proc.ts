/**
 * A producer process for the multi-host test: enqueues COUNT jobs `{ i }`
 * on QUEUE at RESQ_URL with enqueueMany, prints `{"ev":"enqueued","ids":[...]}`
 * and exits.
 */
import { Queue } from '../../client';

async function main(): Promise<void> {
  const queue = new Queue<{ i: number }>(process.env.RESQ_URL);
  const count = Number(process.env.COUNT ?? 10);
  const ids = await queue.enqueueMany(
    process.env.QUEUE ?? 'multihost',
    Array.from({ length: count }, (_, i) => ({ payload: { i } })),
    { retries: 5 },
  );
  process.stdout.write(JSON.stringify({ ev: 'enqueued', ids }) + '\n');
  await queue.close();
}

main().catch((err: Error) => {
  process.stderr.write(`producer: ${err.stack}\n`);
  process.exit(1);
});
