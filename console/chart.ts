// A hand-drawn SVG line chart over a time window: one or more series, a zero baseline,
// the maximum and the window's ends as labels.
import { h, s } from './dom.js';

export interface Series {
  readonly name: string;
  readonly points: readonly { at: number; value: number | null }[];
}

const W = 640;
const H = 180;
const PAD = { left: 56, right: 12, top: 12, bottom: 24 };

export function lineChart(id: string, title: string, series: readonly Series[], format: (n: number) => string, now: number, windowMs: number): HTMLElement {
  const from = now - windowMs;
  const values = series.flatMap((x) => x.points.filter((p) => p.at >= from && p.value !== null).map((p) => p.value!));
  const max = Math.max(1e-9, ...values);
  const x = (at: number): number => PAD.left + ((at - from) / windowMs) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const lines = series.map((ser, i) => {
    // A gap (null) breaks the line rather than drawing through missing data.
    const runs: string[][] = [[]];
    for (const p of ser.points) {
      if (p.at < from) continue;
      if (p.value === null) runs.push([]);
      else runs[runs.length - 1]!.push(`${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`);
    }
    return runs.filter((r) => r.length > 0).map((r) => s('polyline', { class: `series series-${i}`, points: r.join(' '), fill: 'none' }));
  }).flat();
  const latest = series.map((ser) => {
    const last = [...ser.points].reverse().find((p) => p.value !== null);
    return `${ser.name} ${last ? format(last.value!) : '–'}`;
  }).join(' · ');
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title },
    s('line', { class: 'axis', x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }),
    s('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }),
    s('line', { class: 'grid-line', x1: PAD.left, y1: PAD.top, x2: W - PAD.right, y2: PAD.top }),
    s('text', { x: PAD.left - 4, y: PAD.top + 4, 'text-anchor': 'end', class: 'label' }, values.length > 0 ? format(max) : ''),
    s('text', { x: PAD.left - 4, y: H - PAD.bottom, 'text-anchor': 'end', class: 'label' }, '0'),
    s('text', { x: PAD.left, y: H - 6, class: 'label' }, `-${Math.round(windowMs / 60000)} min`),
    s('text', { x: W - PAD.right, y: H - 6, 'text-anchor': 'end', class: 'label' }, 'now'),
    ...lines,
  );
  return h('figure', { class: 'panel chart-panel', id },
    h('figcaption', {}, h('strong', {}, title), h('span', { class: 'muted' }, ` — ${latest}`)),
    svg,
    series.length > 1 ? h('div', { class: 'legend' }, ...series.map((ser, i) => h('span', {}, h('span', { class: `swatch series-swatch-${i}` }), ` ${ser.name}`))) : null,
  );
}
