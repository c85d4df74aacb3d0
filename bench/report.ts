// Markdown for results.md and docs/benchmarks.md: the machine, its limits, every point,
// the meta-vs-etcd comparisons, peak memory per process, and what is still pending.
import type { PointResult, TransferResult } from './context.js';
import { meanOtherCpuPct, wasShared, type Results } from './results.js';

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
const f2 = (n: number): string => n.toFixed(2);
const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function machineSection(r: Results): string {
  const m = r.machine;
  const d = m.disk;
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const rows = [
    ['CPU', `${m.cores} × ${m.cpuModel}`],
    ['memory', `${m.memoryGiB.toFixed(1)} GiB`],
    ['data disk', `${d.device} (${d.fsType}${d.rotational === null ? '' : d.rotational ? ', rotational' : ', non-rotational'}), ${d.sizeGiB.toFixed(0)} GiB, ${d.freeGiB.toFixed(0)} GiB free, mounted on ${d.mountPoint}`],
    ['OS', m.os],
    ['Node.js', m.node],
    ['etcd', r.etcdVersion ?? 'not run'],
    ['date', `${r.startedAt} (${r.durationS.toFixed(0)} s)`],
    ['mode', `${r.options.quick ? '--quick' : 'full'}${r.options.profile ? ' --profile' : ''}${r.options.only ? ` --only ${r.options.only}` : ''}: ${r.timing.warmupMs / 1000} s warm-up + ${r.timing.measureMs / 1000} s measured per point`],
    ['load average (1/5/15 min)', `start ${la(r.loadAverage.start)}, end ${la(r.loadAverage.end)}`],
  ];
  let text = table(['', ''], rows);
  if (wasShared(r)) {
    text += `\n\nThe machine was shared with other work during this run: the load average was ` +
      `${r.loadAverage.start[0].toFixed(2)} on ${m.cores} cores before the harness started anything` +
      (r.points.length === 0 ? '. ' : `, and processes other than the benchmark's used on average ` +
        `${meanOtherCpuPct(r).toFixed(0)}% of a core during the measured windows (column "other CPU %" below). `) +
      `Absolute figures are lower than on an idle machine` +
      (r.points.length === 0 ? '.' : `; the meta/etcd ratios less so, since the two systems' points are interleaved.`);
  }
  return text;
}

export function limitsSection(r: Results): string {
  if (r.limits.length === 0) return '_Not measured in this run._';
  return table(['limit', 'value', 'how'], r.limits.map((l) => [l.name, `${l.unit === 'GB/s' ? f2(l.value) : f0(l.value)} ${l.unit}`, l.detail]));
}

function pointRow(p: PointResult): string[] {
  return [
    p.workload, String(p.concurrency), f0(p.opsPerSec), ms(p.p50Ms), ms(p.p99Ms), ms(p.maxMs),
    p.errors ? `**${p.errors}**` : '0', f0(p.bytesPerResponse), f0(p.serverCpuUsPerOp), f0(p.clientCpuPct), f0(p.otherCpuPct),
  ];
}

export function pointsSection(r: Results): string {
  if (r.points.length === 0) return '_No workload was measured in this run._';
  const head = ['workload', 'conc.', 'ops/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'resp. B', 'server CPU µs/op', 'client CPU %', 'other CPU %'];
  const byBench = new Map<string, PointResult[]>();
  for (const p of r.points) byBench.set(p.benchmark, [...(byBench.get(p.benchmark) ?? []), p]);
  const parts: string[] = [];
  for (const [bench, points] of byBench) {
    const labels = [...new Map(points.map((p) => [p.workload, p.label])).entries()].map(([w, l]) => `- \`${w}\`: ${l}`);
    const sorted = [...points].sort((a, b) => a.workload.localeCompare(b.workload) || a.concurrency - b.concurrency);
    parts.push(`### ${bench}\n\n${labels.join('\n')}\n\n${table(head, sorted.map(pointRow))}`);
    const errs = points.filter((p) => p.firstError);
    for (const p of errs) parts.push(`First error of \`${p.workload}\` at concurrency ${p.concurrency}: \`${p.firstError!.replace(/`/g, "'").slice(0, 200)}\``);
  }
  return parts.join('\n\n');
}

const PAIRS: readonly [string, string, string][] = [
  ['meta-command', 'etcd-put', 'meta command ÷ etcd put'],
  ['meta-state-linearizable', 'etcd-range-linearizable', 'meta whole-state linearizable read ÷ etcd linearizable range'],
  ['meta-status-local', 'etcd-range-linearizable', 'meta local status read ÷ etcd linearizable range (not like for like)'],
  ['opera-put-1k', 'etcd-put-1k', '1 KiB put (R = 3, encrypted) ÷ etcd put of 1 KiB'],
  ['opera-get-1k', 'etcd-range-1k', '1 KiB linearizable get ÷ etcd linearizable range of 1 KiB'],
];

export function comparisonSection(r: Results): string {
  const rows: string[][] = [];
  for (const [ours, ref, what] of PAIRS) {
    for (const p of r.points.filter((x) => x.workload === ours)) {
      const q = r.points.find((x) => x.workload === ref && x.concurrency === p.concurrency);
      if (!q || q.opsPerSec === 0) continue;
      rows.push([what, String(p.concurrency), f0(p.opsPerSec), f0(q.opsPerSec), `${f2(p.opsPerSec / q.opsPerSec)}x`, `${ms(p.p99Ms)} / ${ms(q.p99Ms)}`]);
    }
  }
  if (rows.length === 0) return '_No comparison: the reference did not run._';
  return table(['comparison', 'conc.', 'ours ops/s', 'etcd ops/s', 'ratio', 'p99 ms ours / etcd'], rows);
}

function transferRow(t: TransferResult): string[] {
  const rate = t.unit === 'bytes' ? `${t.rate.toFixed(1)} MB/s` : `${f0(t.rate)} records/s`;
  const amount = t.unit === 'bytes' ? `${(t.amount / 2 ** 20).toFixed(0)} MiB` : `${f0(t.amount)} records`;
  const lat = t.p50Ms === undefined ? '—' : `${ms(t.p50Ms)} / ${ms(t.p99Ms ?? 0)} / ${ms(t.maxMs ?? 0)}`;
  const rss = t.peakRss ? t.peakRss.map((p) => `${p.process} ${p.startRssMiB.toFixed(0)}→${p.peakRssMiB.toFixed(0)}`).join(', ') : '';
  return [t.workload, rate, amount, `${t.seconds.toFixed(1)} s`, lat, `${t.label}; ${t.detail}${rss ? `; RSS MiB at start→peak: ${rss}` : ''}`.replace(/\|/g, '/')];
}

export function transfersSection(r: Results): string {
  if (r.transfers.length === 0) return '_None in this run._';
  return table(['workload', 'rate', 'amount', 'time', 'p50 / p99 / max ms', 'what'], r.transfers.map(transferRow));
}

export function processesSection(r: Results): string {
  return table(['process', 'pid', 'peak RSS (sampled VmRSS)', 'VmHWM', 'CPU s (whole run)'],
    r.processes.map((p) => [p.name, String(p.pid), `${p.peakRssMiB.toFixed(0)} MiB`, `${p.hwmMiB.toFixed(0)} MiB`, (p.cpuS ?? 0).toFixed(1)]));
}

export function pendingSection(r: Results): string {
  const rows = r.pending.map((p) => [p.name, p.title, p.reason]);
  const failed = r.failures.map((f) => [f.name, 'FAILED', f.error.replace(/\n/g, ' ').slice(0, 300)]);
  const notes = r.notes.map((n) => `- ${n}`).join('\n');
  const t = rows.length + failed.length > 0 ? table(['benchmark', 'what', 'status'], [...failed, ...rows]) : '_Every selected benchmark ran._';
  return notes ? `${t}\n\n${notes}` : t;
}

export function profilesSection(r: Results): string {
  if (r.profiles.length === 0) return r.options.profile ? '_--profile was given but no profile was written._' : '';
  const list = r.profiles.map((p) => `- ${p.process}: \`${p.file}\` (in the out directory)`).join('\n');
  const hot = r.profiles.filter((p) => p.hottest).map((p) =>
    `Hottest functions of ${p.process}, ${f0(p.busyMs ?? 0)} ms busy over the whole run:\n\n` +
    table(['function (self time)', 'ms', '% of busy'], p.hottest!.map((h) => [`\`${h.name}\``, f0(h.selfMs), h.pct.toFixed(1)])));
  return [list, ...hot].join('\n\n');
}

export function resultsMarkdown(r: Results): string {
  const profiles = profilesSection(r);
  return [
    `# Space Opera benchmark results`,
    `## Machine\n\n${machineSection(r)}`,
    `## Machine limits\n\n${limitsSection(r)}`,
    `## Compared with etcd\n\n${comparisonSection(r)}`,
    `## Bulk load, listing, large objects, repair\n\n${transfersSection(r)}`,
    `## Every point\n\n${pointsSection(r)}`,
    `## Peak memory and CPU time per process\n\n${processesSection(r)}`,
    `## Not measured\n\n${pendingSection(r)}`,
    ...(profiles ? [`## CPU profiles\n\n${profiles}`] : []),
    `## Summary\n\n\`\`\`text\n${r.summaryLine}\n\`\`\``,
  ].join('\n\n') + '\n';
}
