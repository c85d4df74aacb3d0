// Listing: a full ordered listing of everything stored (the imported stars and whatever
// earlier benchmarks wrote), paged as the CLI pages, and a prefix listing of the largest
// constellation at each concurrency, in records/s. Order and counts are checked.
import { performance } from 'node:perf_hooks';
import { ObjectError, type ObjectClient } from '../../src/client/objects.js';
import { LatencyHistogram } from '../histogram.js';
import { dataPlanePids, directClient, settledCluster } from '../opera-client.js';
import type { Benchmark } from '../registry.js';
import { importStars } from '../star-import.js';
import { largestConstellation } from '../stars.js';

const PAGE = 1000;
/** A full listing is repeated until the measured time has passed, at most this often. */
const MAX_PASSES = 20;

/** A page answered 503 (retryable by the API's contract: no read lease, a failover) is asked again, a few times. */
const PAGE_ATTEMPTS = 5;

interface ListStats {
  /** Pages asked again after a 503. */
  retried: number;
}

async function page(client: ObjectClient, prefix: string, after: string | undefined, stats: ListStats): Promise<Awaited<ReturnType<ObjectClient['list']>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.list(prefix, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
    } catch (err) {
      if (!(err instanceof ObjectError && err.status === 503) || attempt >= PAGE_ATTEMPTS) throw err;
      stats.retried++;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      await client.map.refresh();
    }
  }
}

/** Lists every key under `prefix` in order; returns how many, each page's latency recorded. */
async function listAll(client: ObjectClient, prefix: string, stats: ListStats, latencies?: LatencyHistogram): Promise<number> {
  let after: string | undefined;
  let count = 0;
  let previous = '';
  for (let pages = 0; pages < 1_000_000; pages++) {
    const t0 = performance.now();
    const { items, next } = await page(client, prefix, after, stats);
    latencies?.record((performance.now() - t0) * 1000);
    for (const it of items) {
      if (Buffer.compare(Buffer.from(it.key), Buffer.from(previous)) <= 0 && count > 0) throw new Error(`listing out of order: ${it.key} after ${previous}`);
      previous = it.key;
    }
    count += items.length;
    if (next === null || items.length === 0) return count;
    after = next;
  }
  throw new Error('listing did not end');
}

export const listingBenchmark: Benchmark = {
  name: 'listing',
  title: 'Full ordered listing and a prefix listing (one constellation) of the imported stars, records/s',
  async run(ctx) {
    const stars = await importStars(ctx);
    const cluster = await settledCluster(ctx);
    const client = await directClient(cluster);

    const stats: ListStats = { retried: 0 };
    const pages = new LatencyHistogram();
    let records = 0;
    let passes = 0;
    const t0 = performance.now();
    do {
      const n = await listAll(client, '', stats, pages);
      const stored = stars.stored + stars.skipped;
      if (n < stored) throw new Error(`full listing returned ${n} records, fewer than the ${stored} imported`);
      records += n;
      passes++;
    } while (performance.now() - t0 < ctx.timing.measureMs && passes < MAX_PASSES);
    const seconds = (performance.now() - t0) / 1000;
    ctx.transfer({
      benchmark: 'listing', workload: 'opera-list-all', label: `ObjectClient.list, every key in order, pages of ${PAGE}`,
      amount: records, unit: 'records', seconds, rate: records / seconds,
      p50Ms: pages.quantile(0.5) / 1000, p99Ms: pages.quantile(0.99) / 1000, maxMs: pages.max / 1000,
      detail: `${passes} pass(es) over ${records / passes} records, concurrency 1; latencies are per page; ${stats.retried} page(s) asked again after a 503`,
    });

    const largest = largestConstellation(stars.set);
    const prefix = `${largest.name}/`;
    // What the listing should return: every record of the constellation the import stored.
    const c0 = { records: await listAll(client, prefix, stats) };
    if (c0.records > largest.records || (stars.failed === 0 && c0.records !== largest.records)) {
      throw new Error(`prefix listing returned ${c0.records} records, expected ${largest.records}`);
    }
    for (const c of ctx.timing.concurrencies) {
      const p = await ctx.measureOps(
        { benchmark: 'listing', workload: 'opera-list-prefix', system: 'opera', label: `ObjectClient.list of prefix ${prefix} (${c0.records} records), every page; one op = the whole listing` },
        {
          concurrency: c, serverPids: dataPlanePids(cluster),
          op: async () => {
            const n = await listAll(client, prefix, stats);
            if (n !== c0.records) throw new Error(`prefix listing returned ${n} records, expected ${c0.records}`);
            return 0;
          },
        },
      );
      ctx.transfer({
        benchmark: 'listing', workload: `opera-list-prefix c=${c}`, label: `prefix listing of ${prefix} at concurrency ${c}`,
        amount: p.ops * c0.records, unit: 'records', seconds: p.seconds, rate: p.opsPerSec * c0.records,
        p50Ms: p.p50Ms, p99Ms: p.p99Ms, maxMs: p.maxMs,
        detail: `${p.ops} listings of ${c0.records} records; latencies are per whole listing; ${stats.retried} page(s) asked again after a 503 so far${p.errors ? `; ${p.errors} errors` : ''}`,
      });
    }
  },
};
