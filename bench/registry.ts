// Every benchmark of the harness, in the order they run. A pending entry holds the slot
// of a workload whose system part is still being built: it is listed, reported as n/a,
// and becomes real by giving it a `run`.
import type { BenchContext } from './context.js';
import { limitsBenchmark } from './suites/limits.js';
import { metaCommandBenchmark } from './suites/meta-command.js';
import { metaReadBenchmark } from './suites/meta-read.js';
import { bulkImportBenchmark } from './suites/bulk-import.js';
import { largeObjectsBenchmark } from './suites/large-objects.js';
import { listingBenchmark } from './suites/listing.js';
import { repairBenchmark } from './suites/repair.js';
import { smallGetBenchmark, smallPutBenchmark } from './suites/small-records.js';

export interface Benchmark {
  readonly name: string;
  readonly title: string;
  /** Why it cannot run yet; absent when `run` is real. */
  readonly pending?: string;
  run(ctx: BenchContext): Promise<void>;
}

// Reads run before commands: the commands grow the state that a whole-state read returns.
// Repair runs last: it kills a storage node.
export const BENCHMARKS: readonly Benchmark[] = [
  limitsBenchmark,
  metaReadBenchmark,
  metaCommandBenchmark,
  smallPutBenchmark,
  smallGetBenchmark,
  bulkImportBenchmark,
  listingBenchmark,
  largeObjectsBenchmark,
  repairBenchmark,
];

export function selectBenchmarks(only: string | null): Benchmark[] {
  if (only === null) return [...BENCHMARKS];
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  }
  return BENCHMARKS.filter((b) => names.includes(b.name));
}
