// Every queue with its counts, rates and settings; the server panel.
import { ApiError, get, seg } from '../api.js';
import { bytes, duration, h, num, render, sparkline, when } from '../dom.js';

const STATES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'];

export function overviewPage() {
  const serverEl = h('section.server');
  const queuesEl = h('div');
  const el = h('div', {}, h('h1', {}, 'Queues'), queuesEl, h('h2', {}, 'Server'), serverEl);

  async function refresh() {
    const [ov, server] = await Promise.all([get('/v1/overview'), get('/v1/server').catch(noPermission)]);
    renderQueues(ov);
    if (server instanceof ApiError) render(serverEl, h('p.muted.noperm', {}, `Not shown: ${server.message}`));
    else renderServer(server);
  }

  /** the server panel is INFO: a user without it (a read-only ACL user: INFO is @dangerous) still sees the queues */
  function noPermission(e) {
    if (e instanceof ApiError && e.code === 'NOPERM') return e;
    throw e;
  }

  function renderQueues(ov) {
    const minutes = Math.round((ov.bucketMs * 60) / 60000);
    if (ov.queues.length === 0) return render(queuesEl, h('p.muted', {}, 'No queues yet: ENQUEUE a job to make one.'));
    const rows = [...ov.queues]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((q) => {
        const perSec = (values) => values.slice(-7, -1).reduce((s, v) => s + v, 0) / ((6 * ov.bucketMs) / 1000);
        return h(
          'tr',
          { dataset: { queue: q.name } },
          h('td', {}, h('a', { href: `#/queue/${seg(q.name)}` }, q.name), q.paused ? h('span.badge.paused', {}, 'paused') : null),
          STATES.map((s) => h(`td.num${s === 'dead' && q.dead > 0 ? '.bad' : ''}`, { dataset: { state: s } }, num(q[s]))),
          h('td.num', {}, q.maxlen === 0 ? '∞' : num(q.maxlen)),
          h(
            'td.chart',
            {},
            sparkline(
              [
                { values: q.rates.enqueued, cls: 'in' },
                { values: q.rates.completed, cls: 'out' },
              ],
              { title: `enqueued (blue) and completed (green) per ${ov.bucketMs / 1000} s, last ${minutes} min` },
            ),
          ),
          h('td.num', {}, `${perSec(q.rates.enqueued).toFixed(1)} / ${perSec(q.rates.completed).toFixed(1)}`),
        );
      });
    render(
      queuesEl,
      h(
        'table.queues',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'queue'),
            STATES.map((s) => h('th.num', {}, s)),
            h('th.num', {}, 'max length'),
            h('th', {}, `last ${minutes} min`),
            h('th.num', { title: 'jobs per second over the last minute' }, 'in / done per s'),
          ),
        ),
        h('tbody', {}, rows),
      ),
    );
  }

  function renderServer(s) {
    const items = [
      ['version', `resq ${s.version} (node ${s.node})`],
      ['uptime', duration(s.uptimeSeconds)],
      ['connections', num(s.connections)],
      ['memory (RSS)', bytes(s.memory.rss)],
      ['jobs', num(s.jobs)],
      ['queues', num(s.queues)],
      ['recurring jobs', num(s.recurringJobs)],
      ['appendfsync', s.appendfsync],
      ['log since snapshot', bytes(s.logBytesSinceSnapshot)],
      ['last snapshot', s.lastSnapshotTime ? when(s.lastSnapshotTime * 1000) : 'none yet'],
      ['log', s.logWritable ? 'writable' : h('span.bad', {}, 'NOT writable: writes refused')],
    ];
    render(
      serverEl,
      h(
        'dl',
        {},
        items.map(([k, v]) => h('div', { dataset: { fact: k } }, h('dt', {}, k), h('dd', {}, v))),
      ),
    );
  }

  return { el, refresh };
}
