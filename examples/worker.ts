/**
 * A worker process: sends the e-mails of the 'emails' queue, 10 at a time.
 *
 *   RESQ_URL=redis://broker-host:7377 node dist/examples/worker.js
 *
 * Run as many as you like, on as many hosts as you like. On SIGTERM (or
 * Ctrl-C) it stops claiming, lets running jobs finish for up to 25 s, gives
 * back what is still running, and exits.
 */
import { NoRetryError, Worker } from 'resq';

interface Email {
  to: string;
  subject: string;
}

async function sendMail(mail: Email, signal: AbortSignal): Promise<string> {
  if (!mail.to.includes('@')) throw new NoRetryError(`bad address ${mail.to}`); // no point retrying
  await new Promise((resolve) => setTimeout(resolve, 50)); // stands for the SMTP call (which should take `signal`)
  if (signal.aborted) throw new Error('aborted');
  return `<${Date.now()}@example.com>`;
}

const worker = new Worker<Email, { messageId: string }>(
  'emails',
  async (job) => {
    const messageId = await sendMail(job.data, job.signal);
    return { messageId }; // stored as the job's result (ACK ... RESULT)
  },
  {
    connection: process.env.RESQ_URL,
    concurrency: 10,
    lease: 30_000, // TOUCHed every 15 s while a handler runs
  },
);

worker.on('completed', (job, result) => console.log(`sent ${job.id} -> ${result.messageId}`));
worker.on('failed', (job, err, state) => console.warn(`job ${job.id} failed (${err.message}); now ${state}`));
worker.on('stalled', (job) => console.warn(`lost the lease of ${job.id}; another worker will take it`));
worker.on('error', (err) => console.error('worker error:', err.message));

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing`);
  worker.close(25_000).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
