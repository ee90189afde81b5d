import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSettings } from '../../config/settings';
import { Broker } from '../../server/broker';

/**
 * A Broker in the test's own process (for a scripted log), listening on
 * ephemeral RESP and HTTP ports, its data dir in a temp folder. It never
 * loads the dir: the test attaches its own persistence.
 */
export async function startInProcessBroker(flags: string[] = []): Promise<{ broker: Broker; base: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-inproc-'));
  // --port 0 and http-port left at its default: the HTTP listener binds a free port too
  const { settings } = loadSettings(['--port', '0', '--dir', dir, ...flags], {});
  const broker = new Broker(
    settings,
    () => {},
    () => {},
  );
  await broker.listen();
  return {
    broker,
    base: `http://127.0.0.1:${broker.http!.port}`,
    async stop() {
      await broker.shutdown('nosave', 'test');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
