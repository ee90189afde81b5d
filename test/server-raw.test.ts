import { expect } from 'chai';
import { BrokerProcess, startBroker } from './helpers/broker';
import { encodeCommand, RawClient, RespError } from './helpers/raw-client';
import { waitFor } from './helpers/util';

/**
 * The wire itself, through a bare socket: inline commands, pipelining,
 * every kind of malformed input of the contract, and clients that never
 * read their replies.
 */

describe('server: raw socket', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  const opened: RawClient[] = [];
  let control: RawClient;

  const raw = async () => {
    const c = await RawClient.connect(broker.port);
    opened.push(c);
    return c;
  };

  before(async () => {
    broker = await startBroker();
    control = await raw();
  });
  after(async () => {
    for (const c of opened) c.close();
    await broker?.cleanup();
  });

  /** the server still serves: PING from the long-lived control connection and from a new one */
  async function serverAlive(): Promise<void> {
    expect(await control.command('PING')).to.equal('PONG');
    const fresh = await raw();
    expect(await fresh.command('PING')).to.equal('PONG');
    fresh.close();
  }

  describe('inline commands', () => {
    it('PING\\r\\n and PING\\n', async () => {
      const c = await raw();
      c.write('PING\r\n');
      expect(await c.next()).to.equal('PONG');
      c.write('PING\n');
      expect(await c.next()).to.equal('PONG');
      c.write('ping hello\r\n');
      expect(await c.next()).to.equal('hello');
    });

    it('ENQUEUE q "hello world": double quotes make one argument', async () => {
      const c = await raw();
      c.write('ENQUEUE inline-q "hello world"\r\n');
      const id = (await c.next()) as string;
      expect(id).to.be.a('string');
      c.write('CLAIM inline-q\r\n');
      expect(await c.next()).to.deep.equal([[id, 'inline-q', 'hello world', 1]]);
    });

    it('quoting: escapes in double quotes, single quotes, empty strings, extra blanks', async () => {
      const c = await raw();
      c.write('ECHO "a\\x41\\n\\"q\\""\r\n');
      expect(await c.next()).to.equal('aA\n"q"');
      c.write("ECHO 'it\\'s single'\r\n");
      expect(await c.next()).to.equal("it's single");
      c.write('ECHO ""\r\n');
      expect(await c.next()).to.equal('');
      c.write('   ECHO  \t spaced   \r\n');
      expect(await c.next()).to.equal('spaced');
      // empty lines are ignored
      c.write('\r\n\r\n   \r\nPING\r\n');
      expect(await c.next()).to.equal('PONG');
      expect(await c.quietFor(30)).to.equal(true);
    });

    it('inline and RESP requests mixed in one write, replies in order', async () => {
      const c = await raw();
      c.write(Buffer.concat([Buffer.from('PING\r\n'), encodeCommand(['ECHO', 'resp']), Buffer.from('ECHO inline\r\n')]));
      expect(await c.nextN(3)).to.deep.equal(['PONG', 'resp', 'inline']);
    });

    it('a request split across many writes is parsed as one', async () => {
      const c = await raw();
      const bytes = encodeCommand(['ECHO', 'split up']);
      for (let i = 0; i < bytes.length; i++) {
        c.write(bytes.subarray(i, i + 1));
        if (i % 5 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(await c.next()).to.equal('split up');
    });
  });

  describe('pipelining', () => {
    it('10,000 ENQUEUE requests in ONE write get 10,000 replies in order', async () => {
      const c = await raw();
      const n = 10_000;
      const payload = Buffer.concat(Array.from({ length: n }, (_, i) => encodeCommand(['ENQUEUE', 'pipe-q', `job-${i}`])));
      c.write(payload);
      const ids = (await c.nextN(n, 15000)) as string[];
      for (const id of ids) expect(typeof id, String(id)).to.equal('string');
      expect(new Set(ids).size).to.equal(n);
      for (let i = 1; i < n; i++) {
        if (!(Number(ids[i]) > Number(ids[i - 1]))) throw new Error(`reply ${i} (${ids[i]}) is not after reply ${i - 1} (${ids[i - 1]})`);
      }
      expect(await c.command('QLEN', 'pipe-q')).to.equal(n);
      const peek = (await c.command('PEEK', 'pipe-q', 'COUNT', n)) as string[][];
      expect(peek).to.have.length(n);
      for (let i = 0; i < n; i++) {
        if (peek[i][0] !== ids[i] || peek[i][2] !== `job-${i}`) throw new Error(`job ${i}: ${JSON.stringify(peek[i])} vs id ${ids[i]}`);
      }
      expect(await c.command('PURGE', 'pipe-q', 'WAITING')).to.equal(n);
    });

    it('10,000 inline requests in one write, too', async () => {
      const c = await raw();
      c.write('PING\r\n'.repeat(10_000));
      const replies = await c.nextN(10_000);
      expect(replies.every((x) => x === 'PONG')).to.equal(true);
    });

    it('requests after a blocking one wait for it: replies stay in order', async () => {
      const c = await raw();
      const t0 = Date.now();
      c.write('CLAIM pipe-block BLOCK 150\r\nPING\r\nECHO after\r\n');
      expect(await c.next()).to.deep.equal([]);
      expect(Date.now() - t0).to.be.at.least(140);
      expect(await c.nextN(2)).to.deep.equal(['PONG', 'after']);
    });

    it('a blocked claimer served by another client, then its pipelined requests run', async () => {
      const c = await raw();
      c.write('CLAIM pipe-served BLOCK 5000\r\nQLEN pipe-served\r\n');
      await waitFor(async () => /blocked_claims:1\r?\n/.test((await control.command('INFO', 'clients')) as string), 'claimer parked');
      const id = await control.command('ENQUEUE', 'pipe-served', 'x');
      expect(await c.next()).to.deep.equal([[id, 'pipe-served', 'x', 1]]);
      expect(await c.next()).to.equal(1);
    });
  });

  describe('malformed input: -ERR Protocol error, connection closed, server unharmed', () => {
    const cases: Array<[string, string | Buffer, RegExp?]> = [
      ['bad multibulk length', '*abc\r\n', /invalid multibulk length/],
      ['multibulk length with junk', '*1x\r\n$4\r\nPING\r\n', /invalid multibulk length/],
      ['negative multibulk length other than -1', '*-2\r\n'],
      ['multibulk length beyond max-args', '*1048577\r\n', /invalid multibulk length/],
      ['bad bulk length', '*1\r\n$abc\r\n', /invalid bulk length/],
      ['negative bulk length', '*1\r\n$-1\r\n', /invalid bulk length/],
      ['bulk length beyond max-bulk (32 MiB)', '*2\r\n$4\r\nECHO\r\n$33554433\r\n', /invalid bulk length/],
      ['an integer where a bulk is expected: *1\\r\\n:1\\r\\n', '*1\r\n:1\r\n', /expected '\$'/],
      ['an inline line where a bulk is expected', '*2\r\n$4\r\nECHO\r\nPING\r\n', /expected '\$'/],
      ['bulk data not followed by CRLF', '*1\r\n$4\r\nPINGxx\r\n', /CRLF/],
      ['missing CRLF: LF only after the bulk', '*1\r\n$4\r\nPING\n\n', /CRLF/],
      ['missing LF after the multibulk CR', '*1\rPING', /invalid multibulk length/],
      ['inline request beyond max-inline (64 KB) without a newline', 'ECHO ' + 'x'.repeat(70_000), /too big inline request/],
      ['unbalanced double quotes', 'ENQUEUE q "abc\r\n', /unbalanced/],
      ['unbalanced single quotes', "ECHO 'abc\r\n", /unbalanced/],
      ['closing quote followed by a letter', 'ECHO "abc"def\r\n', /unbalanced/],
    ];
    for (const [name, bytes, re] of cases) {
      it(name, async () => {
        const c = await raw();
        c.write(bytes);
        const reply = await c.next();
        expect(reply).to.be.instanceOf(RespError);
        expect((reply as RespError).message).to.match(/^ERR Protocol error: /);
        if (re) expect((reply as RespError).message).to.match(re);
        await c.waitClosed();
        await serverAlive();
      });
    }

    it('requests before the bad bytes in the same write are answered first', async () => {
      const c = await raw();
      c.write('PING\r\nECHO first\r\n*1\r\n:1\r\nPING\r\n');
      expect(await c.next()).to.equal('PONG');
      expect(await c.next()).to.equal('first');
      expect(((await c.next()) as RespError).message).to.match(/^ERR Protocol error/);
      await c.waitClosed();
      expect(c.buffered).to.equal(0);
      await serverAlive();
    });

    it('an oversized bulk fails from its header: the server does not wait for (or buffer) the data', async () => {
      const c = await raw();
      c.write('*2\r\n$7\r\nENQUEUE\r\n$999999999999\r\n');
      expect(((await c.next(2000)) as RespError).message).to.match(/^ERR Protocol error/);
      await c.waitClosed();
      await serverAlive();
    });

    it('binary garbage', async () => {
      const c = await raw();
      c.write(Buffer.from([0x2a, 0xff, 0xfe, 0x00, 0x0d, 0x0a]));
      expect(((await c.next()) as RespError).message).to.match(/^ERR Protocol error/);
      await c.waitClosed();
      await serverAlive();
    });

    it('*0 and *-1 are ignored; the connection stays open', async () => {
      const c = await raw();
      c.write('*0\r\n*-1\r\n*0\r\nPING\r\n');
      expect(await c.next()).to.equal('PONG');
      expect(await c.quietFor(50)).to.equal(true);
      expect(c.closed).to.equal(false);
      expect(await c.command('ECHO', 'still here')).to.equal('still here');
    });

    it('a well-formed but wrong command is an error reply and the connection stays open', async () => {
      const c = await raw();
      c.write(encodeCommand(['CLAIM', 'q', 'COUNT', '12abc']));
      c.write('NOSUCHCMD a b\r\n');
      c.write(encodeCommand(['ENQUEUE']));
      const replies = await c.nextN(3);
      for (const rep of replies) expect(rep).to.be.instanceOf(RespError);
      expect((replies[0] as RespError).message).to.match(/^ERR /);
      expect((replies[1] as RespError).message).to.match(/^ERR unknown command 'NOSUCHCMD'/);
      expect((replies[2] as RespError).message).to.match(/^ERR wrong number of arguments/);
      expect(await c.command('PING')).to.equal('PONG');
    });

    it('many clients with bad input at once do not disturb a good one', async () => {
      const bad = await Promise.all(Array.from({ length: 20 }, () => raw()));
      bad.forEach((b, i) => b.write(i % 2 ? '*1\r\n:1\r\n' : 'ECHO "x\r\n'));
      await Promise.all(bad.map((b) => b.waitClosed()));
      await serverAlive();
    });
  });
});

describe('server: a client that never reads its replies', function () {
  this.timeout(20000);
  let broker: BrokerProcess;
  const opened: RawClient[] = [];
  const raw = async () => {
    const c = await RawClient.connect(broker.port);
    opened.push(c);
    return c;
  };

  before(async () => {
    broker = await startBroker({ 'max-output-buffer': String(1024 * 1024) });
  });
  after(async () => {
    for (const c of opened) c.close();
    await broker?.cleanup();
  });

  it('is disconnected once its unsent replies pass max-output-buffer; the server stays up', async () => {
    const control = await raw();
    const big = 'z'.repeat(100 * 1024);
    await control.command('ENQUEUE', 'obuf-q', big);
    const slow = await raw();
    const slowId = (await slow.command('CLIENT', 'ID')) as number;
    slow.socket.pause(); // never read again
    // 400 PEEKs of a 100 KB job: ~40 MB of replies, far more than socket buffers hold
    for (let i = 0; i < 4; i++) slow.write('PEEK obuf-q\r\n'.repeat(100));
    await waitFor(
      async () => !new RegExp(`^id=${slowId} `, 'm').test((await control.command('CLIENT', 'LIST')) as string),
      'the slow client is disconnected',
      10000,
      50,
    );
    expect(await control.command('PING')).to.equal('PONG');
    const fresh = await raw();
    expect(await fresh.command('QLEN', 'obuf-q')).to.equal(1);
    const peeked = (await fresh.command('PEEK', 'obuf-q')) as string[][];
    expect(peeked[0][2]).to.have.length(big.length);
  });

  it('a client that reads slowly but does read is served in full', async () => {
    const c = await raw();
    c.write('PEEK obuf-q\r\n'.repeat(5));
    const replies = (await c.nextN(5)) as string[][][];
    for (const rep of replies) expect(rep[0][2]).to.have.length(100 * 1024);
  });
});

describe('server: connection limits (idle timeout, max-clients, query buffer, payload size)', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  const opened: RawClient[] = [];
  const raw = async () => {
    const c = await RawClient.connect(broker.port);
    opened.push(c);
    return c;
  };

  before(async () => {
    broker = await startBroker({ timeout: '1' });
  });
  after(async () => {
    for (const c of opened) c.close();
    await broker?.cleanup();
  });

  it('timeout: an idle connection is closed; a blocked one is not idle', async () => {
    const idle = await raw();
    const blocked = await raw();
    const busy = await raw();
    expect(await idle.command('PING')).to.equal('PONG');
    blocked.write('CLAIM limits-idle BLOCK 0\r\n');
    const t0 = Date.now();
    const pinger = setInterval(() => busy.write('PING\r\n'), 200);
    try {
      await idle.waitClosed(4000);
      expect(Date.now() - t0).to.be.at.least(900);
      // nothing to observe but time: closes from the sweep that closed idle would have arrived by now
      await new Promise((r) => setTimeout(r, 300));
      expect(blocked.closed).to.equal(false);
      expect(busy.closed).to.equal(false);
    } finally {
      clearInterval(pinger);
    }
    const producer = await raw();
    const id = await producer.command('ENQUEUE', 'limits-idle', 'x');
    expect(await blocked.next()).to.deep.equal([[id, 'limits-idle', 'x', 1]]);
  });

  it('max-clients: a connection beyond it gets -ERR max number of clients reached; others are served', async () => {
    const a = await raw();
    const connected = Number(/connected_clients:(\d+)/.exec((await a.command('INFO', 'clients')) as string)![1]);
    expect(await a.command('CONFIG', 'SET', 'max-clients', String(connected))).to.equal('OK');
    try {
      const refused = await raw();
      const err = (await refused.next()) as RespError;
      expect(err.message).to.match(/^ERR max number of clients reached/);
      await refused.waitClosed();
      expect(await a.command('PING')).to.equal('PONG');
    } finally {
      expect(await a.command('CONFIG', 'SET', 'max-clients', '10000')).to.equal('OK');
    }
    const b = await raw();
    expect(await b.command('PING')).to.equal('PONG');
  });

  it('max-query-buffer: a request that buffers more than the limit is a protocol error; the server is unharmed', async () => {
    const a = await raw();
    expect(await a.command('CONFIG', 'SET', 'max-query-buffer', '4096')).to.equal('OK');
    try {
      const c = await raw();
      c.write('*3\r\n$7\r\nENQUEUE\r\n$1\r\nq\r\n$100000\r\n' + 'x'.repeat(8000));
      expect(((await c.next()) as RespError).message).to.match(/^ERR Protocol error: .*query buffer/);
      await c.waitClosed();
      expect(await a.command('PING')).to.equal('PONG');
    } finally {
      await a.command('CONFIG', 'SET', 'max-query-buffer', String(64 * 1024 * 1024));
    }
  });

  it('max-payload default 8 MiB: exactly 8,388,608 bytes accepted, one more is -TOOBIG, connection usable', async () => {
    const c = await raw();
    const max = 8 * 1024 * 1024;
    const id = (await c.command('ENQUEUE', 'limits-big', Buffer.alloc(max, 0x61))) as string;
    expect(id).to.be.a('string');
    const err = (await c.command('ENQUEUE', 'limits-big', Buffer.alloc(max + 1, 0x61))) as RespError;
    expect(err).to.be.instanceOf(RespError);
    expect(err.code).to.equal('TOOBIG');
    expect(await c.command('QLEN', 'limits-big')).to.equal(1);
    const claimed = (await c.command('CLAIM', 'limits-big')) as string[][];
    expect(claimed[0][2]).to.have.length(max);
    expect(await c.command('ACK', id)).to.equal(1);
  });
});
