import { EngineError } from '../engine/engine-errors';
import { isAckBatch, readAckBatch } from '../rules/ack-batch';
import { argError, MAX_BLOCK_MS, MAX_DURATION_MS, OptionReader } from '../rules/args';
import { isEnqueueBatch, readEnqueueBatch } from '../rules/enqueue-batch';
import { enqueueOptionsFromWords } from '../rules/enqueue-options';
import { checkQueueName } from '../rules/names';
import { checkPayload } from '../rules/payload';
import { Handler, HandlerGroup, replyOrError } from './handler';
import { writeJobEntries, writeStatus } from './reply-shapes';

const enqueue: Handler = (ctx, c, args) => {
  const [, queue, payload] = args;
  checkQueueName(queue);
  if (isEnqueueBatch(args)) {
    enqueueBatch(ctx, c, queue, args);
    return;
  }
  checkPayload(payload, ctx.settings.int('max-payload'));
  const { options, block } = enqueueOptionsFromWords(args, 3);
  try {
    c.writer.bulk(ctx.engine.enqueue(queue, payload, options));
  } catch (e) {
    if (!(e instanceof EngineError) || e.code !== 'FULL' || block === undefined) throw e;
    const cancel = ctx.engine.waitForRoom(queue, () => {
      if (ctx.engine.isFull(queue, options.group)) return false;
      replyOrError(c, () => c.writer.bulk(ctx.engine.enqueue(queue, payload, options)));
      c.unblock();
      return true;
    });
    c.block(cancel, block, () => c.writer.error(e.wire));
  }
};

/** one element per payload, each what the single ENQUEUE would reply for it (an id, or -TOOBIG / -FULL ... in place) */
function enqueueBatch(ctx: Parameters<Handler>[0], c: Parameters<Handler>[1], queue: string, args: string[]): void {
  const { payloads, options } = readEnqueueBatch(args);
  const maxPayload = ctx.settings.int('max-payload');
  c.writer.arrayHeader(payloads.length);
  for (const payload of payloads) {
    replyOrError(c, () => {
      checkPayload(payload, maxPayload);
      c.writer.bulk(ctx.engine.enqueue(queue, payload, options));
    });
  }
}

const claim: Handler = (ctx, c, args) => {
  const r = new OptionReader(args, 2);
  let count = 1;
  let block: number | undefined;
  let lease: number | undefined;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'COUNT') count = r.int(word, 1, 100_000);
    else if (word === 'BLOCK') block = r.int(word, 0, MAX_BLOCK_MS);
    else if (word === 'LEASE') lease = r.int(word, 1, MAX_DURATION_MS);
    else r.unknown(word);
  }
  const queue = args[1];
  const req = { count, lease, owner: c.id };
  const jobs = ctx.engine.claim(queue, req);
  if (jobs.length > 0 || block === undefined) {
    writeJobEntries(c.writer, jobs);
    return;
  }
  const cancel = ctx.engine.waitForJobs(queue, req, (got) => {
    writeJobEntries(c.writer, got);
    c.unblock();
  });
  c.block(cancel, block, () => c.writer.arrayHeader(0));
};

function deliveryOption(r: OptionReader, word: string): number {
  return r.int(word, 0, Number.MAX_SAFE_INTEGER);
}

const ack: Handler = (ctx, c, args) => {
  if (isAckBatch(args)) {
    ackBatch(ctx, c, args);
    return;
  }
  const r = new OptionReader(args, 2);
  let result: string | null = null;
  let delivery: number | undefined;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'RESULT') {
      result = r.value(word);
      checkPayload(result, ctx.settings.int('max-payload'), 'result');
    } else if (word === 'DELIVERY') delivery = deliveryOption(r, word);
    else r.unknown(word);
  }
  c.writer.int(ctx.engine.ack(args[1], result, delivery));
};

/**
 * `ACK IDS numids id [id ...] [DELIVERY d [d ...]]`: one reply per id, in
 * order, each what `ACK id [DELIVERY d]` would reply (:1, :0 or its error);
 * an id's error does not stop the others. The records of the whole batch go
 * into the log in this turn, so the reply is held until all are durable.
 */
const ackBatch: Handler = (ctx, c, args) => {
  const { ids, deliveries } = readAckBatch(args);
  c.writer.arrayHeader(ids.length);
  for (let i = 0; i < ids.length; i++) {
    try {
      c.writer.int(ctx.engine.ack(ids[i], null, deliveries?.[i]));
    } catch (e) {
      if (e instanceof EngineError) c.writer.error(e.wire);
      else {
        // the array header is out: an element must follow whatever went wrong
        ctx.log('error', `internal error in ack: ${(e as Error).stack ?? e}`);
        c.writer.error(`ERR internal error: ${(e as Error).message}`);
      }
    }
  }
};

const nack: Handler = (ctx, c, args) => {
  const r = new OptionReader(args, 2);
  let delay: number | undefined;
  let error: string | undefined;
  let noRetry = false;
  let delivery: number | undefined;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'DELAY') delay = r.int(word, 0, MAX_DURATION_MS);
    else if (word === 'ERROR') error = r.value(word).slice(0, 64 * 1024);
    else if (word === 'NORETRY') noRetry = true;
    else if (word === 'DELIVERY') delivery = deliveryOption(r, word);
    else r.unknown(word);
  }
  c.writer.simple(ctx.engine.nack(args[1], { delay, error, noRetry, delivery }));
};

const touch: Handler = (ctx, c, args) => {
  const r = new OptionReader(args, 2);
  let lease: number | undefined;
  let delivery: number | undefined;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'LEASE') lease = r.int(word, 1, MAX_DURATION_MS);
    else if (word === 'DELIVERY') delivery = deliveryOption(r, word);
    else r.unknown(word);
  }
  c.writer.int(ctx.engine.touch(args[1], lease, delivery));
};

function withPayloadFlag(args: string[], at: number): boolean {
  if (args.length <= at) return false;
  if (args.length === at + 1 && args[at].toUpperCase() === 'WITHPAYLOAD') return true;
  throw argError(`syntax error: unknown option '${args[at]}'`);
}

const status: Handler = (ctx, c, args) => {
  writeStatus(c.writer, ctx.engine.status(args[1]), withPayloadFlag(args, 2));
};

const cancel: Handler = (ctx, c, args) => {
  c.writer.int(ctx.engine.cancel(args[1]));
};

const promote: Handler = (ctx, c, args) => {
  c.writer.int(ctx.engine.promote(args[1]));
};

const waitjob: Handler = (ctx, c, args) => {
  const r = new OptionReader(args, 2);
  let block = 0;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'BLOCK') block = r.int(word, 0, MAX_BLOCK_MS);
    else r.unknown(word);
  }
  let parked = false;
  const stop = ctx.engine.waitForJob(args[1], (job) => {
    writeStatus(c.writer, job, false);
    if (parked) c.unblock();
  });
  if (stop) {
    parked = true;
    c.block(stop, block, () => c.writer.nil());
  }
};

export const JOB_HANDLERS = {
  enqueue,
  claim,
  ack,
  nack,
  touch,
  status,
  cancel,
  promote,
  waitjob,
} satisfies HandlerGroup;
