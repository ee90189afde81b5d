/**
 * ACL categories (Redis's model): named sets of commands that ACL SETUSER
 * grants or revokes with +@name / -@name. Each command's categories are on
 * its spec (protocol/command-specs.ts): the ones its flags and group imply,
 * plus the ones its ACL entry there adds.
 */
export const ACL_CATEGORIES = {
  read: 'reads jobs or queues, changes nothing',
  write: 'changes job or queue state (appended to the log)',
  admin: 'administration: settings, snapshots, shutdown, users, other connections',
  dangerous: 'may harm the broker or other users: every admin command, PURGE, QDEL, INFO',
  fast: 'constant-time commands',
  slow: 'every command that is not @fast',
  blocking: 'may park the connection (BLOCK)',
  jobs: 'commands on one job or that create jobs (ENQUEUE, CLAIM, ACK, STATUS, ...)',
  queues: 'commands on a queue (QLEN, PEEK, PAUSE, PURGE, ...)',
  cron: 'recurring jobs (CRON SET / DEL / LIST)',
  produce: 'what a producer needs: ENQUEUE, STATUS, WAITJOB, CANCEL, QLEN, and the housekeeping client libraries send on connect',
  consume: 'what a worker needs: CLAIM, ACK, NACK, TOUCH, STATUS, and the housekeeping client libraries send on connect',
  connection: 'the connection itself: PING, HELLO, CLIENT, SELECT, COMMAND, ...',
} as const;

export type AclCategory = keyof typeof ACL_CATEGORIES;

export const CATEGORY_NAMES = Object.keys(ACL_CATEGORIES) as AclCategory[];

export function isCategory(name: string): name is AclCategory {
  return Object.prototype.hasOwnProperty.call(ACL_CATEGORIES, name);
}
