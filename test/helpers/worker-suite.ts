import { Job, Queue, Worker, WorkerOptions } from '../../client';
import { BrokerProcess } from './broker';
import { brokerUrl, startSdkBroker } from './sdk-util';

/** what a describe block of Worker tests shares: one broker, a fresh Queue per test, workers closed after each */
export interface WorkerSuite {
  readonly broker: BrokerProcess;
  readonly url: string;
  readonly queue: Queue;
  /** the workers' 'error' events of the current test */
  readonly errors: Error[];
  worker<T = unknown, R = unknown>(name: string, handler: (job: Job<T>) => Promise<R>, opts?: WorkerOptions<T>): Worker<T, R>;
}

/** registers the before/after hooks; `quietQueue`: the Queue's connection errors are expected (the broker restarts) */
export function workerSuite(settings: Record<string, string> = {}, quietQueue = false): WorkerSuite {
  let broker: BrokerProcess | null = null;
  let url = '';
  let queue: Queue | null = null;
  const workers: Worker<never, never>[] = [];
  const errors: Error[] = [];
  before(async () => {
    broker = await startSdkBroker(settings);
    url = brokerUrl(broker);
  });
  beforeEach(() => {
    queue = new Queue(url);
    if (quietQueue) queue.on('error', () => undefined); // calls reject anyway
    errors.length = 0;
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(1000)));
    await queue?.close();
  });
  after(async () => {
    await broker?.cleanup();
  });
  return {
    get broker() {
      return broker!;
    },
    get url() {
      return url;
    },
    get queue() {
      return queue!;
    },
    errors,
    worker<T = unknown, R = unknown>(name: string, handler: (job: Job<T>) => Promise<R>, opts: WorkerOptions<T> = {}): Worker<T, R> {
      const w = new Worker<T, R>(name, handler, { connection: url, block: 100, ...opts });
      w.on('error', (err) => errors.push(err));
      workers.push(w as unknown as Worker<never, never>);
      return w;
    },
  };
}
