import { expect } from 'chai';
import { skipWithoutRedisCli } from './helpers/util';
import { execFileSync } from 'child_process';
import { BrokerProcess, startBroker } from './helpers/broker';

/**
 * A scripted redis-cli session, as in the README: one-shot commands (the
 * shell-script style `id=$(redis-cli CLAIM q)` ... `redis-cli ACK $id`)
 * and a session fed on stdin.
 */

describe('server: redis-cli', function () {
  this.timeout(15000);
  let broker: BrokerProcess;

  /** runs redis-cli with args; stdout without the trailing newline */
  const cli = (args: Array<string | number>, input?: string): string =>
    execFileSync('redis-cli', ['-p', String(broker.port), ...args.map(String)], { input, encoding: 'latin1', timeout: 10000 }).replace(/\n$/, '');

  before(async function () {
    skipWithoutRedisCli(this);
    broker = await startBroker();
  });
  after(async () => {
    await broker?.cleanup();
  });

  it('ENQUEUE, CLAIM, ACK, STATUS as one-shot commands', () => {
    const id = cli(['ENQUEUE', 'emails', '{"to":"ann@example.com"}', 'PRIORITY', 'high']);
    expect(id).to.match(/^\S+$/);
    expect(cli(['QLEN', 'emails'])).to.equal('1');
    // a claimed job prints as id, queue, payload, deliveries, one per line
    expect(cli(['CLAIM', 'emails']).split('\n')).to.deep.equal([id, 'emails', '{"to":"ann@example.com"}', '1']);
    // acknowledged from another connection than the one that claimed
    expect(cli(['ACK', id, 'RESULT', 'sent'])).to.equal('1');
    expect(cli(['ACK', id])).to.equal('0');
    const status = cli(['STATUS', id]).split('\n');
    const s = new Map<string, string>();
    for (let i = 0; i < status.length; i += 2) s.set(status[i], status[i + 1]);
    expect(s.get('id')).to.equal(id);
    expect(s.get('state')).to.equal('completed');
    expect(s.get('priority')).to.equal('high');
    expect(s.get('result')).to.equal('sent');
    expect(s.get('deliveries')).to.equal('1');
    expect(s.get('lease-until')).to.equal('');
  });

  it('errors print as (error) lines and an empty CLAIM prints nothing', () => {
    expect(cli(['ACK', 'no-such-job'])).to.match(/^(\(error\) )?NOJOB/);
    expect(cli(['CLAIM', 'nothing-here'])).to.equal('');
    expect(cli(['NOSUCHCOMMAND'])).to.match(/^(\(error\) )?ERR unknown command 'NOSUCHCOMMAND'/);
    expect(cli(['STATUS', 'no-such-job'])).to.equal('');
  });

  it('INFO prints Redis-style sections', () => {
    const info = cli(['INFO']);
    expect(info).to.match(/^# Server\r?$/m);
    expect(info).to.match(/^redis_version:\d/m);
    expect(info).to.match(new RegExp(`^tcp_port:${broker.port}\\r?$`, 'm'));
    expect(info).to.match(/^# Queues\r?$/m);
    expect(info).to.match(/^queue_emails:ready=0,/m);
    expect(cli(['INFO', 'stats'])).to.match(/^total_jobs_enqueued:1\r?$/m);
  });

  it('a session fed on stdin: several commands, replies in order', () => {
    const script = [
      'PING',
      'ENQUEUE reports "monthly report" RETRIES 1',
      'QLEN reports',
      'CLAIM reports LEASE 60000',
      'QSTATS reports',
      'PING "after all that"',
      '',
    ].join('\n');
    const lines = cli([], script).split('\n');
    expect(lines[0]).to.equal('PONG');
    const id = lines[1];
    expect(id).to.match(/^\S+$/);
    expect(lines[2]).to.equal('1');
    expect(lines.slice(3, 7)).to.deep.equal([id, 'reports', 'monthly report', '1']);
    const stats = lines.slice(7, -1);
    const st = new Map<string, string>();
    for (let i = 0; i < stats.length; i += 2) st.set(stats[i], stats[i + 1]);
    expect(st.get('active')).to.equal('1');
    expect(st.get('ready')).to.equal('0');
    expect(st.get('enqueued')).to.equal('1');
    expect(lines[lines.length - 1]).to.equal('after all that');
    // the shell-script style: NACK and ACK from new connections
    expect(cli(['NACK', id, 'DELAY', '0', 'ERROR', 'disk full'])).to.equal('ready');
    expect(cli(['CLAIM', 'reports']).split('\n')[3]).to.equal('2');
    expect(cli(['ACK', id, 'DELIVERY', '1'])).to.match(/STALE/);
    expect(cli(['ACK', id, 'DELIVERY', '2'])).to.equal('1');
  });

  it('the interactive-style output with --no-raw', () => {
    const out = execFileSync('redis-cli', ['-p', String(broker.port), '--no-raw', 'QLEN', 'reports'], { encoding: 'utf8' }).trim();
    expect(out).to.equal('(integer) 0');
    const err = execFileSync('redis-cli', ['-p', String(broker.port), '--no-raw', 'CANCEL', 'nope'], { encoding: 'utf8' }).trim();
    expect(err).to.match(/^\(error\) NOJOB/);
  });
});
