// Slots for the workloads that need storage nodes (still being built). Each names what
// it will measure and how its headline is defined, so the report and the last line
// already carry them as n/a. To add one: replace `pending` and `run` with a real run
// that measures points with ctx.measure and sets ctx.headlines (key = the name).
import type { Benchmark } from '../registry.js';

const NEEDS_NODES = 'needs storage nodes and the gateway\'s object API, which are still being built';

function pending(name: string, title: string): Benchmark {
  return {
    name, title, pending: NEEDS_NODES,
    run: () => Promise.reject(new Error(`${name}: ${NEEDS_NODES}`)),
  };
}

export const pendingBenchmarks: readonly Benchmark[] = [
  pending('small-put', '1 KiB encrypted puts, R = 3, vs etcd put of 1 KiB (ratio at concurrency 64)'),
  pending('small-get', '1 KiB gets vs etcd linearizable range of 1 KiB (ratio at concurrency 64)'),
  pending('large-put', 'Large-object MB/s as % of the machine limit (sequential write ÷ R, since all replicas share one disk here; XChaCha20-Poly1305; loopback TCP)'),
  pending('repair', 'Re-replication MB/s after a node loss'),
];
