// `opera import` of the star catalogue into the data-plane cluster, once per run: the
// bulk-load benchmark measures it, the listing benchmark needs its records.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchContext } from './context.js';
import { projectRoot } from './meta-cluster.js';
import { settledCluster } from './opera-client.js';
import { starSet, type StarSet } from './stars.js';

export interface ImportOutcome {
  readonly set: StarSet;
  readonly stored: number;
  readonly skipped: number;
  readonly failed: number;
  /** As measured by the command itself (reading, batching, sending). */
  readonly seconds: number;
  /** Including the process's start-up and the session it opens. */
  readonly wallSeconds: number;
  readonly errors: readonly string[];
}

const done = new WeakMap<BenchContext, Promise<ImportOutcome>>();

export function importStars(ctx: BenchContext): Promise<ImportOutcome> {
  let p = done.get(ctx);
  if (!p) {
    p = run(ctx);
    done.set(ctx, p);
  }
  return p;
}

async function run(ctx: BenchContext): Promise<ImportOutcome> {
  const cluster = await settledCluster(ctx);
  const set = await starSet(ctx);
  ctx.log(`opera import of ${set.records} star records`);
  const flags = ctx.profileDir ? ['--cpu-prof', '--cpu-prof-dir', ctx.profileDir] : [];
  const t0 = performance.now();
  const proc = ctx.procs.start('opera import', 'client', process.execPath, [
    ...flags, join(projectRoot, 'bin', 'opera.js'), 'import', set.file, '--gateway', cluster.gateway, '--token', cluster.token, '--json',
  ], { ...process.env, OPERA_LOG_LEVEL: 'warn' });
  ctx.rss.track({ name: 'opera import', role: 'client', pid: proc.pid });
  const bound = setTimeout(() => proc.child.kill('SIGKILL'), ctx.opts.quick ? 180_000 : 900_000);
  const code = await proc.exited();
  clearTimeout(bound);
  const wallSeconds = (performance.now() - t0) / 1000;
  const last = proc.output().trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!last) throw new Error(`opera import exited with ${code} and no summary: ${proc.output().slice(-1000)}`);
  const sum = JSON.parse(last) as { stored?: number; skipped?: number; failed?: number; invalid?: number; seconds?: number; errors?: string[]; error?: { message: string } };
  if (sum.error || sum.seconds === undefined) throw new Error(`opera import failed: ${sum.error?.message ?? last}`);
  return {
    set, stored: sum.stored ?? 0, skipped: sum.skipped ?? 0, failed: (sum.failed ?? 0) + (sum.invalid ?? 0),
    seconds: sum.seconds, wallSeconds, errors: sum.errors ?? [],
  };
}
