// `node dist/bench/main.js [--quick] [--only NAME[,NAME]] [--out DIR] [--profile]`:
// runs the benchmarks of the registry in one run, writes results.json and results.md to
// the out dir, regenerates docs/benchmarks.md (full set only), and ends with the
// summary line. Every process it starts is stopped on every way out.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchContext, type BenchOptions } from './context.js';
import { benchmarksDoc } from './docs.js';
import { loadAverage, machineInfo } from './machine.js';
import { projectRoot } from './meta-cluster.js';
import { hottest } from './profile-top.js';
import { selectBenchmarks, type Benchmark } from './registry.js';
import { resultsMarkdown } from './report.js';
import type { Results } from './results.js';
import { HEADLINE_KEYS, summaryLine } from './summary.js';

const USAGE = 'usage: node dist/bench/main.js [--quick] [--only NAME[,NAME...]] [--out DIR] [--profile]';

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return {
    quick: values.quick ?? false,
    only: values.only ?? null,
    out: resolve(values.out ?? join(projectRoot, 'bench-results')),
    profile: values.profile ?? false,
  };
}

async function profilesOf(ctx: BenchContext): Promise<Results['profiles']> {
  const dir = ctx.profileDir;
  if (!dir) return [];
  const files = await readdir(dir).catch(() => [] as string[]);
  const out: (Results['profiles'][number] & { role: string })[] = [];
  for (const p of ctx.rss.results()) {
    for (const f of files.filter((name) => name.includes(`.${p.pid}.`) && name.endsWith('.cpuprofile'))) {
      const file = join('profiles', f); // relative to the out dir: no machine paths in reports
      const name = p.name === ctx.metaLeader ? `${p.name} (leader, under load)` : p.name;
      const hot = await hottest(join(dir, f), projectRoot).catch(() => null);
      out.push({ role: p.name === ctx.metaLeader ? 'meta leader' : p.role, process: name, file, ...(hot ? { busyMs: hot.busyMs, hottest: hot.functions } : {}) });
    }
  }
  // Hot functions are kept for the busiest process of each role (the meta leader apart).
  const busiest = new Map<string, number>();
  for (const p of out) busiest.set(p.role, Math.max(busiest.get(p.role) ?? 0, p.busyMs ?? 0));
  return out.map(({ role, ...p }) => (p.busyMs !== undefined && p.busyMs === busiest.get(role) ? p : { process: p.process, file: p.file }));
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  let selected: Benchmark[];
  try {
    opts = parseOptions();
    selected = selectBenchmarks(opts.only ?? null);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  await mkdir(opts.out, { recursive: true });
  const ctx = new BenchContext(opts);
  const started = new Date();
  const loadStart = loadAverage();
  ctx.log(`load average at start: ${loadStart.map((x) => x.toFixed(2)).join(' ')}; results to ${opts.out}`);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    ctx.log(`${signal}: stopping every process`);
    void ctx.close().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const failures: Results['failures'] = [];
  const pending: Results['pending'] = [];
  try {
    for (const b of selected) {
      if (b.pending) {
        pending.push({ name: b.name, title: b.title, reason: b.pending });
        continue;
      }
      ctx.log(`== ${b.name}: ${b.title}`);
      try {
        await b.run(ctx);
      } catch (err) {
        ctx.log(`${b.name} failed: ${(err as Error).stack ?? String(err)}`);
        failures.push({ name: b.name, error: (err as Error).message });
      }
    }
  } finally {
    await ctx.close();
  }
  if (interrupted) return 130;

  const finished = new Date();
  const loadEnd = loadAverage();
  ctx.log(`load average at end: ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`);
  const results: Results = {
    format: 'space-opera/bench-results', version: 1,
    startedAt: started.toISOString(), finishedAt: finished.toISOString(),
    durationS: (finished.getTime() - started.getTime()) / 1000,
    options: { quick: opts.quick, only: opts.only, profile: opts.profile },
    timing: ctx.timing,
    machine: machineInfo(opts.out),
    etcdVersion: ctx.etcdVersion,
    loadAverage: { start: loadStart, end: loadEnd },
    limits: ctx.limits,
    points: ctx.points,
    transfers: ctx.transfers,
    processes: ctx.rss.results(),
    headlines: Object.fromEntries(HEADLINE_KEYS.map((k) => [k, ctx.headlines.get(k) ?? null])),
    pending, failures, notes: ctx.notes,
    profiles: await profilesOf(ctx),
    summaryLine: summaryLine(ctx.headlines),
  };
  const markdown = resultsMarkdown(results);
  await writeFile(join(opts.out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(opts.out, 'results.md'), markdown);
  if (opts.only === null) {
    await writeFile(join(projectRoot, 'docs', 'benchmarks.md'), benchmarksDoc(results));
    ctx.log('docs/benchmarks.md regenerated');
  } else {
    ctx.log('--only: docs/benchmarks.md left as it was');
  }
  process.stdout.write(`${markdown}\n${results.summaryLine}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
