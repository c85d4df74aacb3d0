// Bulk load: `opera import` of the Hipparcos catalogue (in --quick, its first records),
// in records/s as the command counts them, and with its process start-up.
import type { Benchmark } from '../registry.js';
import { importStars } from '../star-import.js';

export const bulkImportBenchmark: Benchmark = {
  name: 'bulk-import',
  title: '`opera import` of hipparcos-stars.ndjson.gz (118,216 records; the first 5,000 in --quick), records/s',
  async run(ctx) {
    const r = await importStars(ctx);
    const ok = r.stored + r.skipped;
    ctx.transfer({
      benchmark: 'bulk-import', workload: 'opera-import', label: 'opera import (per-partition batches of 500, 8 in flight)',
      amount: ok, unit: 'records', seconds: r.seconds, rate: ok / r.seconds,
      detail: `${r.stored} stored, ${r.skipped} already there, ${r.failed} failed of ${r.set.records}; ${(ok / r.wallSeconds).toFixed(0)} records/s including process start (${r.wallSeconds.toFixed(1)} s)` +
        (r.errors.length ? `; first error: ${r.errors[0]}` : ''),
    });
    // Failed records are the system's answer under this load, reported like a point's errors.
    if (r.failed > 0) ctx.notes.push(`bulk-import: ${r.failed} of ${r.set.records} records failed (first: ${r.errors[0] ?? '?'})`);
  },
};
