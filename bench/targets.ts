// The targets, checked against a run's own figures (never asserted: a table of
// met / not met / not measured, with the numbers behind each verdict).
import type { Results } from './results.js';

interface Verdict {
  target: string;
  figure: string;
  met: boolean | null;
}

const RSS_TARGET_MIB = 200;

function ratioAt(r: Results, ours: string, ref: string, c: number): { ratio: number; p99: [number, number] } | null {
  const o = r.points.find((p) => p.workload === ours && p.concurrency === c);
  const e = r.points.find((p) => p.workload === ref && p.concurrency === c);
  if (!o || !e || e.opsPerSec === 0) return null;
  return { ratio: o.opsPerSec / e.opsPerSec, p99: [o.p99Ms, e.p99Ms] };
}

function verdicts(r: Results): Verdict[] {
  const top = Math.max(...r.timing.concurrencies);
  const out: Verdict[] = [];
  const meta = ratioAt(r, 'meta-command', 'etcd-put', top);
  out.push({
    target: `meta commands/s ≥ 2x etcd puts/s at concurrency ${top}, p99 no worse`,
    figure: meta ? `${meta.ratio.toFixed(2)}x, p99 ${meta.p99[0].toFixed(0)} ms vs ${meta.p99[1].toFixed(0)} ms` : 'not measured',
    met: meta ? meta.ratio >= 2 && meta.p99[0] <= meta.p99[1] : null,
  });
  for (const [ours, ref, what] of [['opera-put-1k', 'etcd-put-1k', 'puts'], ['opera-get-1k', 'etcd-range-1k', 'linearizable gets']] as const) {
    const x = ratioAt(r, ours, ref, top);
    out.push({ target: `1 KiB ${what} ≥ 3x etcd at concurrency ${top}`, figure: x ? `${x.ratio.toFixed(2)}x` : 'not measured', met: x ? x.ratio >= 3 : null });
  }
  const imp = r.transfers.find((t) => t.workload === 'opera-import');
  out.push({ target: 'bulk import ≥ 20,000 records/s', figure: imp ? `${imp.rate.toFixed(0)} records/s` : 'not measured', met: imp ? imp.rate >= 20_000 : null });
  const large = r.headlines['large-put'];
  out.push({ target: 'large put ≥ 50% of the limit', figure: large ? `${(100 * large.value).toFixed(0)}% (${large.how})` : 'not measured', met: large ? large.value >= 0.5 : null });
  // Space Opera's own processes: the load generator and the etcd reference do not count.
  const peaks = r.transfers.flatMap((t) => t.peakRss ?? []).filter((p) => !p.process.startsWith('load generator') && !p.process.startsWith('etcd'));
  const worst = peaks.reduce<{ process: string; peakRssMiB: number } | null>((a, b) => (a === null || b.peakRssMiB > a.peakRssMiB ? b : a), null);
  out.push({
    target: `RSS of every process < ${RSS_TARGET_MIB} MB during large objects`,
    figure: worst ? `largest ${worst.process} ${worst.peakRssMiB.toFixed(0)} MiB` : 'not measured',
    met: worst ? worst.peakRssMiB < RSS_TARGET_MIB : null,
  });
  const rep = r.transfers.find((t) => t.workload === 'opera-repair');
  const pct = rep ? /(\d+)% of the throttle/.exec(rep.detail)?.[1] : undefined;
  out.push({ target: 'repair ≥ 80% of the throttle', figure: rep ? `${rep.rate.toFixed(1)} MB/s, ${pct ?? '?'}% of the throttle` : 'not measured', met: rep && pct ? Number(pct) >= 80 : null });
  return out;
}

export function targetsSection(r: Results): string {
  const rows = verdicts(r).map((v) => `| ${v.target} | ${v.figure.replace(/\|/g, '/')} | ${v.met === null ? 'not measured' : v.met ? 'met' : '**not met**'} |`);
  return ['| target | this run | verdict |', '|---|---|---|', ...rows].join('\n') +
    (r.options.quick ? '\n\nA `--quick` run: short points and smaller data sets; the targets are defined on the full run.' : '');
}
