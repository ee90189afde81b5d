// One job: every STATUS field, its payload, and the actions its state allows.
import { blob, get, post, seg } from '../api.js';
import { button, h, render, when } from '../dom.js';

/** payloads longer than this are shown cut, with a download link for the whole */
const SHOW_MAX = 64 * 1024;
const TIME_FIELDS = new Set(['created-at', 'updated-at', 'run-at', 'lease-until', 'expires-at']);

/** pretty JSON when it parses, the text when it is printable, else hex */
export function describePayload(text, base64) {
  const raw = atob(base64 ?? '');
  try {
    return { kind: 'json', body: JSON.stringify(JSON.parse(text), null, 2) };
  } catch {
    // not JSON
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what makes a payload binary
  const printable = !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
  if (printable) return { kind: 'text', body: text };
  const hex = [];
  for (let i = 0; i < Math.min(raw.length, SHOW_MAX / 3); i += 16) {
    const row = [...raw.slice(i, i + 16)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0'));
    hex.push(`${i.toString(16).padStart(8, '0')}  ${row.join(' ')}`);
  }
  return { kind: 'hex', body: hex.join('\n') };
}

export function jobPage(id, ctx) {
  const j = seg(id);
  const fieldsEl = h('tbody');
  const payloadEl = h('div');
  const actionsEl = h('section.actions.write');
  const crumbs = h('p.crumbs');
  const stateEl = h('span.badge');
  const el = h(
    'div',
    {},
    crumbs,
    h('h1', {}, 'Job ', h('code', {}, id), ' ', stateEl),
    actionsEl,
    h('table.fields', {}, fieldsEl),
    h('h2', {}, 'Payload'),
    payloadEl,
  );
  let shownPayload = null;

  async function download() {
    const b = await blob(`/v1/jobs/${j}/payload`);
    const a = h('a', { href: URL.createObjectURL(b), download: `job-${id}.bin` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  async function refresh() {
    let s;
    try {
      s = await get(`/v1/jobs/${j}?withpayload=1`);
    } catch (e) {
      if (e.code !== 'NOJOB') throw e;
      render(
        el,
        h('p.crumbs', {}, h('a', { href: '#/' }, 'Queues')),
        h('h1', {}, 'No job ', h('code', {}, id)),
        h('p.muted', {}, 'It does not exist, or retention removed it.'),
      );
      return;
    }
    render(crumbs, h('a', { href: '#/' }, 'Queues'), ' / ', h('a', { href: `#/queue/${seg(s.queue)}?state=${s.state}` }, s.queue), ' / ');
    stateEl.textContent = s.state;
    stateEl.className = `badge state-${s.state}`;
    const rows = Object.entries(s)
      .filter(([k]) => !k.startsWith('payload') && k !== 'result_base64')
      .map(([k, v]) =>
        h(
          'tr',
          { dataset: { field: k } },
          h('th', {}, k),
          h('td', {}, TIME_FIELDS.has(k) ? [when(v), v ? h('span.muted', {}, ` ${v}`) : ''] : v === null ? h('span.muted', {}, '—') : h('code', {}, String(v))),
        ),
      );
    render(fieldsEl, rows);
    render(
      actionsEl,
      s.state === 'ready' || s.state === 'scheduled' ? button('Cancel', () => ctx.act('cancelled', () => post(`/v1/jobs/${j}/cancel`)), 'danger') : null,
      s.state === 'scheduled' ? button('Run now (promote)', () => ctx.act('promoted', () => post(`/v1/jobs/${j}/promote`))) : null,
      s.state === 'dead' || s.state === 'cancelled' ? button('Retry (requeue)', () => ctx.act('requeued', () => post(`/v1/jobs/${j}/requeue`)), 'retry') : null,
    );
    if (shownPayload !== s.payload_base64) {
      shownPayload = s.payload_base64;
      const size = atob(s.payload_base64).length;
      const cut = s.payload.length > SHOW_MAX;
      const p = describePayload(cut ? s.payload.slice(0, SHOW_MAX) : s.payload, s.payload_base64);
      render(
        payloadEl,
        h(
          'p.muted',
          {},
          `${size.toLocaleString('en-US')} bytes, shown as ${p.kind}${cut ? ` (first ${SHOW_MAX / 1024} KB)` : ''} · `,
          h('button.link', { type: 'button', onclick: () => download().catch((e) => ctx.flash(e.message, 'error')) }, 'download'),
        ),
        h(`pre.payload.${p.kind}`, {}, p.body),
      );
    }
  }

  return { el, refresh };
}
