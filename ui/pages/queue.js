// One queue: its jobs by state, a page at a time (JOBS cursors), and its actions.
import { get, post, seg } from '../api.js';
import { bytes, button, h, num, render, when } from '../dom.js';

const STATES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'];
const PAGE = 50;
/** rows of the groups table (GROUP LIST COUNT) */
const GROUPS_SHOWN = 20;

export function queuePage(queue, params, ctx) {
  const state = STATES.includes(params.get('state')) ? params.get('state') : 'ready';
  const order = params.get('order') === 'desc' ? 'desc' : 'asc';
  const q = seg(queue);
  const link = (s, o) => `#/queue/${q}?state=${s}&order=${o}`;
  /** cursors of the pages before this one, to go back; the current page starts at `cursor` */
  const back = [];
  let cursor = '0';
  let next = '0';
  let shownFrom = 0;

  const tabsEl = h('nav.tabs');
  const infoEl = h('span.muted');
  const tableEl = h('div');
  const flowEl = h('p.muted.flow');
  const groupsEl = h('div.groups');
  const pagerInfo = h('span.muted');
  const prevBtn = h('button', { type: 'button', onclick: () => turn(-1) }, '← previous');
  const nextBtn = h('button', { type: 'button', onclick: () => turn(1) }, 'next →');
  const pauseBtn = button('Pause', () => {});
  const maxlenInput = h('input', { type: 'number', min: 0, name: 'maxlen', size: 8 });
  const purgeSelect = h(
    'select',
    { name: 'purge' },
    ['dead', 'completed', 'cancelled', 'all', 'waiting'].map((s) => h('option', { value: s }, s)),
  );
  const searchInput = h('input', { type: 'search', name: 'id', placeholder: 'job id', size: 16 });
  let stats = null;

  const actions = h(
    'section.actions.write',
    {},
    pauseBtn,
    h(
      'form.inline',
      {
        onsubmit: (ev) => {
          ev.preventDefault();
          ctx.act(`MAXLEN set to ${maxlenInput.value}`, () => post(`/v1/queues/${q}/config`, { maxlen: Number(maxlenInput.value) }));
        },
      },
      h('label', {}, 'max length ', maxlenInput),
      h('button', { type: 'submit' }, 'Set'),
    ),
    button('Retry all dead', () => ctx.act('dead jobs requeued', () => post(`/v1/queues/${q}/requeue-all`)), 'retry-all'),
    h(
      'form.inline',
      {
        onsubmit: (ev) => {
          ev.preventDefault();
          const what = purgeSelect.value;
          if (!confirm(`Remove every ${what} job of ${queue}?`)) return;
          ctx.act(`purged ${what}`, () => post(`/v1/queues/${q}/purge`, { state: what }));
        },
      },
      purgeSelect,
      h('button.danger', { type: 'submit' }, 'Purge'),
    ),
  );
  pauseBtn.addEventListener('click', () => {
    const paused = stats?.paused === 1;
    ctx.act(paused ? 'resumed' : 'paused', () => post(`/v1/queues/${q}/${paused ? 'resume' : 'pause'}`));
  });

  const el = h(
    'div',
    {},
    h('p.crumbs', {}, h('a', { href: '#/' }, 'Queues'), ' / '),
    h('h1', {}, queue, ' ', infoEl),
    flowEl,
    actions,
    tabsEl,
    h(
      'div.toolbar',
      {},
      h('a', { href: link(state, order === 'asc' ? 'desc' : 'asc'), class: 'order' }, order === 'asc' ? 'oldest first ⇅' : 'newest first ⇅'),
      h(
        'form.inline',
        {
          onsubmit: (ev) => {
            ev.preventDefault();
            if (searchInput.value) ctx.go(`#/job/${seg(searchInput.value)}`);
          },
        },
        searchInput,
        h('button', { type: 'submit' }, 'Find'),
      ),
    ),
    tableEl,
    h('div.pager', {}, prevBtn, pagerInfo, nextBtn),
    groupsEl,
  );

  function turn(dir) {
    if (dir > 0 && next !== '0') {
      back.push(cursor);
      shownFrom += PAGE;
      cursor = next;
    } else if (dir < 0 && back.length > 0) {
      cursor = back.pop();
      shownFrom = Math.max(0, shownFrom - PAGE);
    }
    refresh().catch((e) => ctx.flash(e.message, 'error'));
  }

  /** the latest refresh: an older one (the 2 s poll) that answers after a page turn must not draw the old page */
  let latest = 0;

  async function refresh() {
    const mine = ++latest;
    const [s, page, groups] = await Promise.all([
      get(`/v1/queues/${q}`),
      get(`/v1/queues/${q}/jobs?state=${state}&order=${order}&count=${PAGE}&cursor=${encodeURIComponent(cursor)}`),
      // GROUP LIST: a user allowed the rest but not this (ACL) still gets the page, without the table
      get(`/v1/queues/${q}/groups?count=${GROUPS_SHOWN}`).catch(() => null),
    ]);
    if (mine !== latest) return;
    stats = s;
    next = page.cursor;
    pauseBtn.textContent = s.paused ? 'Resume' : 'Pause';
    if (document.activeElement !== maxlenInput) maxlenInput.value = s.maxlen;
    render(infoEl, s.paused ? h('span.badge.paused', {}, 'paused') : null, ` max length ${s.maxlen === 0 ? '∞' : num(s.maxlen)}`);
    render(
      tabsEl,
      STATES.map((st) => h(`a${st === state ? '.current' : ''}`, { href: link(st, order), dataset: { state: st } }, `${st} `, h('span.count', {}, num(s[st])))),
    );
    const total = s[state];
    render(pagerInfo, page.jobs.length === 0 ? '' : `${num(shownFrom + 1)}–${num(shownFrom + page.jobs.length)} of ${num(total)}`);
    prevBtn.disabled = back.length === 0;
    nextBtn.disabled = next === '0';
    renderJobs(page.jobs);
    renderFlow(s);
    renderGroups(s, groups);
  }

  /** the flow-control settings (QCONFIG), only those set; nothing when none is */
  function renderFlow(s) {
    const per = (n, ms) => `${num(n)} per ${ms % 1000 === 0 ? `${ms / 1000 === 1 ? '' : num(ms / 1000) + ' '}s` : `${num(ms)} ms`}`;
    const parts = [];
    if (s.concurrency) parts.push(`concurrency ${num(s.concurrency)}`);
    if (s.rate) parts.push(`rate ${per(s.rate, s['rate-per'])}`);
    const group = [];
    if (s['group-concurrency']) group.push(`concurrency ${num(s['group-concurrency'])}`);
    if (s['group-rate']) group.push(`rate ${per(s['group-rate'], s['group-rate-per'])}`);
    if (s['group-maxlen']) group.push(`max length ${num(s['group-maxlen'])}`);
    if (group.length) parts.push(`each group: ${group.join(', ')}`);
    if (s.groups) parts.push(`${num(s.groups)} group${s.groups === 1 ? '' : 's'}`);
    render(flowEl, parts.length ? `Flow control: ${parts.join(' · ')}` : null);
  }

  /** the largest groups (GROUP LIST), when the queue has any */
  function renderGroups(s, groups) {
    if (!groups || groups.groups.length === 0) return render(groupsEl);
    const shown = groups.groups.length < s.groups ? ` (the ${num(groups.groups.length)} largest of ${num(s.groups)})` : '';
    render(
      groupsEl,
      h('h2', {}, 'Groups', h('span.muted', {}, shown)),
      h(
        'table.groups',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'group'), ...['waiting', 'ready', 'active', 'in progress'].map((t) => h('th.num', {}, t)))),
        h(
          'tbody',
          {},
          groups.groups.map((g) =>
            h(
              'tr',
              { dataset: { group: g.key } },
              h('td', {}, g.key),
              h('td.num', {}, num(g.waiting)),
              h('td.num', {}, num(g.ready)),
              h('td.num', {}, num(g.active)),
              h('td.num', {}, num(g['in-progress'])),
            ),
          ),
        ),
      ),
    );
  }

  function renderJobs(jobs) {
    if (jobs.length === 0) return render(tableEl, h('p.muted.empty', {}, `No ${state} jobs.`));
    const due = state === 'scheduled' ? 'runs' : state === 'active' ? 'lease ends' : null;
    render(
      tableEl,
      h(
        'table.jobs',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'id'),
            h('th', {}, 'priority'),
            h('th.num', {}, 'deliveries'),
            h('th', {}, 'since'),
            due ? h('th', {}, due) : null,
            h('th.num', {}, 'size'),
            h('th', {}, 'payload'),
            state === 'dead' || state === 'ready' || state === 'scheduled' ? h('th', {}, 'last error') : null,
          ),
        ),
        h(
          'tbody',
          {},
          jobs.map((j) =>
            h(
              'tr',
              { dataset: { id: j.id } },
              h('td', {}, h('a', { href: `#/job/${seg(j.id)}` }, j.id)),
              h('td', {}, j.priority),
              h('td.num', {}, num(j.deliveries)),
              h('td', {}, when(j['updated-at'])),
              due ? h('td', {}, when(j['due-at'])) : null,
              h('td.num', {}, bytes(j['payload-size'])),
              h('td.payload', {}, h('code', {}, j['payload-head'] + (j['payload-size'] > j['payload-head'].length ? '…' : ''))),
              state === 'dead' || state === 'ready' || state === 'scheduled' ? h('td.error', {}, j['last-error'] ?? '') : null,
            ),
          ),
        ),
      ),
    );
  }

  return { el, refresh };
}
