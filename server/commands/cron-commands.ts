import { argError } from './args';
import { Handler } from './handler';

const unavailable: Handler = () => {
  throw argError('CRON is not available in this build yet; recurring jobs arrive with the operations release');
};

export const CRON_HANDLERS: ReadonlyArray<[string, Handler]> = [
  ['cron|set', unavailable],
  ['cron|del', unavailable],
  ['cron|list', unavailable],
];
