// What every benchmark gets: the run's options and timing, the clusters (started on first
// use, stopped at the end), the one load generator, and the collected results.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureEtcd, startEtcdCluster, type EtcdCluster } from './etcd.js';
import type { LimitResult } from './limits.js';
import { runClosedLoop, runLoad, type LoadOptions, type LoadResult, type LoopOptions } from './load.js';
import { startMetaCluster, type MetaCluster } from './meta-cluster.js';
import { startOperaCluster, type OperaCluster } from './opera-cluster.js';
import { RssSampler } from './proc-stats.js';
import { ProcessGroup } from './procs.js';

export interface BenchOptions {
  readonly quick: boolean;
  readonly only: string | null;
  readonly out: string;
  readonly profile: boolean;
}

export interface Timing {
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly concurrencies: readonly number[];
  readonly maxOps: number;
  readonly timeoutMs: number;
}

export const FULL: Timing = { warmupMs: 5000, measureMs: 15_000, concurrencies: [1, 16, 64], maxOps: 5_000_000, timeoutMs: 10_000 };
export const QUICK: Timing = { warmupMs: 1000, measureMs: 3000, concurrencies: [1, 16, 64], maxOps: 1_000_000, timeoutMs: 10_000 };

export type System = 'meta' | 'etcd' | 'opera';

export interface PointResult extends LoadResult {
  benchmark: string;
  workload: string;
  system: System;
  label: string;
}

export interface Headline {
  value: number;
  how: string;
}

export type PointSpec = Pick<LoadOptions, 'url' | 'concurrency' | 'request' | 'check' | 'serverPids'>;
export type OpsSpec = Pick<LoopOptions, 'concurrency' | 'op' | 'serverPids'>;

/** A one-shot measurement of an amount moved in a time (a bulk load, a listing, a large object, a repair). */
export interface TransferResult {
  benchmark: string;
  workload: string;
  label: string;
  amount: number;
  /** What `amount` counts: records or bytes. */
  unit: 'records' | 'bytes';
  seconds: number;
  /** records/s, or MB/s (10^6 bytes) for bytes. */
  rate: number;
  /** Latency of the operations it was made of (pages, batches), when there were several. */
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Peak VmRSS of every process of ours while it ran (large objects). */
  peakRss?: { process: string; startRssMiB: number; peakRssMiB: number }[];
  detail: string;
}

/** Storage nodes of the data-plane cluster: R = 3 plus one, so that a lost node can be replaced. */
const OPERA_NODES = 4;

export class BenchContext {
  readonly timing: Timing;
  readonly procs = new ProcessGroup();
  readonly rss = new RssSampler();
  readonly runId = randomBytes(3).toString('hex');
  readonly points: PointResult[] = [];
  readonly limits: LimitResult[] = [];
  readonly headlines = new Map<string, Headline>();
  readonly notes: string[] = [];
  readonly transfers: TransferResult[] = [];
  /** The large object stored by large-put (repair reuses it as the data a lost node held). */
  largeObject: { key: string; bytes: number } | null = null;
  etcdVersion: string | null = null;
  /** The process name of the meta member the load went to (the leader at start). */
  metaLeader: string | null = null;
  private workDir: string | null = null;
  private etcdCluster: Promise<EtcdCluster | null> | null = null;
  private metaCluster: Promise<MetaCluster> | null = null;
  private operaCluster: Promise<OperaCluster> | null = null;
  private closed = false;

  constructor(readonly opts: BenchOptions) {
    this.timing = opts.quick ? QUICK : FULL;
  }

  get profileDir(): string | null {
    return this.opts.profile ? join(this.opts.out, 'profiles') : null;
  }

  log(message: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  /** A scratch directory on the data disk (inside the out dir), removed at the end. */
  async scratch(name: string): Promise<string> {
    this.workDir ??= await mkdtemp(join(this.opts.out, '.work-'));
    const dir = join(this.workDir, name);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** The reference cluster, or null (with a note saying why) when etcd is not available. */
  etcd(): Promise<EtcdCluster | null> {
    this.etcdCluster ??= (async () => {
      const have = await ensureEtcd(this.procs, (s) => this.log(s));
      if (!have.ok) {
        this.notes.push(`etcd reference skipped: ${have.reason}`);
        this.log(`etcd reference skipped: ${have.reason}`);
        return null;
      }
      this.etcdVersion = have.version;
      this.log(`starting a 3-member etcd ${have.version} cluster`);
      try {
        const c = await startEtcdCluster(this.procs, this.rss, await this.scratch('etcd'), have.version);
        this.log(`etcd leader at ${c.leaderUrl}`);
        return c;
      } catch (err) {
        // The reference failing must not hide this system's own numbers: its points are skipped.
        this.notes.push(`etcd reference skipped: it did not start: ${(err as Error).message}`);
        this.log(`etcd did not start: ${(err as Error).message}`);
        return null;
      }
    })();
    return this.etcdCluster;
  }

  meta(): Promise<MetaCluster> {
    this.metaCluster ??= (async () => {
      const profileDir = this.profileDir;
      if (profileDir) await mkdir(profileDir, { recursive: true });
      this.log(`starting a 3-member meta group${profileDir ? ' with --cpu-prof' : ''}`);
      const c = await startMetaCluster(this.procs, this.rss, await this.scratch('meta'), profileDir);
      const leader = c.members.find((m) => m.url === c.leaderUrl);
      this.metaLeader = leader ? `meta ${leader.id}` : null;
      this.log(`meta leader ${leader?.id ?? '?'} at ${c.leaderUrl}`);
      return c;
    })();
    return this.metaCluster;
  }

  /** The data-plane cluster, laid out like `opera dev`, with 4 storage nodes. */
  opera(): Promise<OperaCluster> {
    this.operaCluster ??= (async () => {
      const profileDir = this.profileDir;
      if (profileDir) await mkdir(profileDir, { recursive: true });
      this.log(`starting a data-plane cluster (3 meta, gateway, ${OPERA_NODES} nodes, sentinel)${profileDir ? ' with --cpu-prof' : ''}`);
      const c = await startOperaCluster(this.procs, this.rss, await this.scratch('opera'), profileDir, OPERA_NODES);
      this.log(`data-plane gateway at ${c.gateway}`);
      return c;
    })();
    return this.operaCluster;
  }

  /** Runs one point of calls through the client library and keeps its result. */
  async measureOps(what: Pick<PointResult, 'benchmark' | 'workload' | 'system' | 'label'>, spec: OpsSpec): Promise<PointResult> {
    const t = this.timing;
    this.log(`${what.workload} c=${spec.concurrency}: ${t.warmupMs / 1000} s warm-up, ${t.measureMs / 1000} s measured`);
    const r = await runClosedLoop({
      ...spec, warmupMs: t.warmupMs, measureMs: t.measureMs, maxOps: t.maxOps, timeoutMs: t.timeoutMs,
      ourPids: () => [process.pid, ...this.procs.alive().map((p) => p.pid)],
    });
    return this.keep(what, r);
  }

  /** Keeps a one-shot measurement. */
  transfer(t: TransferResult): TransferResult {
    this.transfers.push(t);
    const rate = t.unit === 'bytes' ? `${t.rate.toFixed(1)} MB/s` : `${t.rate.toFixed(0)} records/s`;
    this.log(`  ${t.workload}: ${rate} (${t.detail})`);
    return t;
  }

  /** Runs one point with the load generator and keeps its result. */
  async measure(what: Pick<PointResult, 'benchmark' | 'workload' | 'system' | 'label'>, spec: PointSpec): Promise<PointResult> {
    const t = this.timing;
    this.log(`${what.workload} c=${spec.concurrency}: ${t.warmupMs / 1000} s warm-up, ${t.measureMs / 1000} s measured`);
    const r = await runLoad({
      ...spec, warmupMs: t.warmupMs, measureMs: t.measureMs, maxOps: t.maxOps, timeoutMs: t.timeoutMs,
      ourPids: () => [process.pid, ...this.procs.alive().map((p) => p.pid)],
    });
    return this.keep(what, r);
  }

  private keep(what: Pick<PointResult, 'benchmark' | 'workload' | 'system' | 'label'>, r: LoadResult): PointResult {
    const point: PointResult = { ...what, ...r };
    this.points.push(point);
    this.log(`  ${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms` +
      `${r.errors ? `, ${r.errors} errors (first: ${r.firstError ?? '?'})` : ''}`);
    return point;
  }

  pointOf(workload: string, concurrency: number): PointResult | undefined {
    return this.points.find((p) => p.workload === workload && p.concurrency === concurrency);
  }

  /** Stops every process (reading each one's final peak first) and removes the scratch space. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.procs.alive()) this.rss.final(p.pid);
    if (this.opts.profile) {
      // Storage nodes drain on SIGTERM (up to 30 s to leave, 30 s for requests) and need meta
      // meanwhile: they go first, and must exit on their own to write a profile.
      await this.procs.stop(this.procs.alive().filter((p) => p.role === 'node'), 70_000);
    }
    await this.procs.stopAll(this.opts.profile ? 30_000 : 5000);
    this.rss.stop();
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
  }
}
