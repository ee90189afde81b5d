// A tiny DOM builder and the formatters the pages share. No framework: the pages are small tables and forms.

/** h('a.cls', { href }, ...children): an element; children are nodes, strings or arrays of them */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && k !== 'list') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// one formatter for every number: toLocaleString builds a new one per call, which shows with hundreds of cells
const NUMBER = new Intl.NumberFormat('en-US');
export const num = (n) => (n === null || n === undefined ? '—' : NUMBER.format(n));

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** unix ms as "12s ago" / "in 3m", with the exact time as a tooltip */
export function when(ms) {
  if (ms === null || ms === undefined || ms === 0) return h('span.muted', {}, '—');
  const d = (ms - Date.now()) / 1000;
  const text = Math.abs(d) < 1 ? 'now' : d < 0 ? `${duration(-d)} ago` : `in ${duration(d)}`;
  return h('time', { title: new Date(ms).toISOString(), dateTime: new Date(ms).toISOString() }, text);
}

export function button(label, onclick, cls = '') {
  return h(`button.write${cls ? '.' + cls : ''}`, { type: 'button', onclick }, label);
}

/** a polyline chart of one or two series (numbers per bucket), inline SVG */
export function sparkline(series, { width = 160, height = 28, title = '' } = {}) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const t = document.createElementNS(ns, 'title');
  t.textContent = title;
  svg.append(t);
  for (const s of series) {
    const n = s.values.length;
    const pts = s.values.map((v, i) => `${((i / Math.max(1, n - 1)) * (width - 2) + 1).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', pts.join(' '));
    line.setAttribute('class', s.cls);
    svg.append(line);
  }
  return svg;
}

/** replaces the children of el */
export function render(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
