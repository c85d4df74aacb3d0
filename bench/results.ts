// The shape of results.json, gathered from the context at the end of a run.
import type { BenchOptions, Headline, PointResult, Timing, TransferResult } from './context.js';
import type { LimitResult } from './limits.js';
import type { LoadAverage, MachineInfo } from './machine.js';
import type { ProcessPeak } from './proc-stats.js';
import type { HotFunction } from './profile-top.js';

export interface Results {
  format: 'space-opera/bench-results';
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  options: Pick<BenchOptions, 'quick' | 'only' | 'profile'>;
  timing: Timing;
  machine: MachineInfo;
  etcdVersion: string | null;
  loadAverage: { start: LoadAverage; end: LoadAverage };
  limits: LimitResult[];
  points: PointResult[];
  /** One-shot measurements: bulk load, listings, large objects, repair. */
  transfers: TransferResult[];
  processes: ProcessPeak[];
  headlines: Record<string, Headline | null>;
  pending: { name: string; title: string; reason: string }[];
  failures: { name: string; error: string }[];
  notes: string[];
  /** With --profile: each process's .cpuprofile; for the busiest of each role also its hottest functions. */
  profiles: { process: string; file: string; busyMs?: number; hottest?: HotFunction[] }[];
  summaryLine: string;
}

/** Load above this share of the cores before the run means other work shared the machine. */
export function wasShared(r: Results): boolean {
  return r.loadAverage.start[0] >= 0.25 * r.machine.cores;
}

export function meanOtherCpuPct(r: Results): number {
  return r.points.length === 0 ? 0 : r.points.reduce((s, p) => s + p.otherCpuPct, 0) / r.points.length;
}
