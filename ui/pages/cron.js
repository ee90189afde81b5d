// Recurring jobs: the entries with their next and last runs; add and delete.
import { get, post, seg } from '../api.js';
import { button, h, render, when } from '../dom.js';

export function cronPage(ctx) {
  const listEl = h('div');
  const input = (name, attrs = {}) => h('input', { name, ...attrs });
  const f = {
    name: input('name', { required: true, placeholder: 'nightly-report' }),
    expression: input('expression', { required: true, placeholder: '0 3 * * *' }),
    queue: input('queue', { required: true, placeholder: 'reports' }),
    payload: input('payload', { placeholder: '{"kind":"daily"}' }),
    timezone: input('timezone', { placeholder: 'server default' }),
    priority: h(
      'select',
      { name: 'priority' },
      ['normal', 'high', 'low'].map((p) => h('option', { value: p }, p)),
    ),
  };
  const form = h(
    'form.cron.write',
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const body = { expression: f.expression.value, queue: f.queue.value, payload: f.payload.value, priority: f.priority.value };
        if (f.timezone.value) body.timezone = f.timezone.value;
        const done = await ctx.act(`recurring job ${f.name.value} saved`, () => post(`/v1/cron/${seg(f.name.value)}`, body));
        if (done) form.reset();
      },
    },
    h('h2', {}, 'Add or replace'),
    Object.entries(f).map(([k, el]) => h('label', {}, k, el)),
    h('button', { type: 'submit' }, 'Save'),
  );
  const el = h('div', {}, h('h1', {}, 'Recurring jobs'), listEl, form);

  async function refresh() {
    const { entries } = await get('/v1/cron');
    if (entries.length === 0) return render(listEl, h('p.muted.empty', {}, 'No recurring jobs.'));
    render(
      listEl,
      h(
        'table.crons',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['name', 'expression', 'time zone', 'queue', 'next run', 'last run', 'payload'].map((t) => h('th', {}, t)),
            h('th.write', {}, ''),
          ),
        ),
        h(
          'tbody',
          {},
          entries.map((e) =>
            h(
              'tr',
              { dataset: { name: e.name } },
              h('td', {}, e.name),
              h('td', {}, h('code', {}, e.expression)),
              h('td', {}, e.timezone),
              h('td', {}, h('a', { href: `#/queue/${seg(e.queue)}` }, e.queue)),
              h('td', {}, when(e.nextRunAt)),
              h('td', {}, when(e.lastRunAt)),
              h('td.payload', {}, h('code', {}, e.payload)),
              h(
                'td.write',
                {},
                button('Delete', () => confirm(`Delete ${e.name}?`) && ctx.act(`${e.name} deleted`, () => post(`/v1/cron/${seg(e.name)}/delete`)), 'danger'),
              ),
            ),
          ),
        ),
      ),
    );
  }

  return { el, refresh };
}
