// Large objects: one put and one get of a large value (1 GiB; 128 MiB in --quick) through
// the client library, streamed (encrypted in frames here, replicated R = 3 by the primary),
// in MB/s, with the peak resident memory of every process meanwhile. The headline is the
// put's rate as a share of the machine's limit for it: the slowest of encryption on one
// core, the disk's sequential write ÷ R (every replica writes to the same disk here) and
// loopback TCP ÷ R.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../context.js';
import { REPLICATION } from '../opera-cluster.js';
import { directClient, settledCluster } from '../opera-client.js';
import { RssWindow } from '../proc-stats.js';
import type { Benchmark } from '../registry.js';

const CHUNK = 2 ** 20;
const MB = 1e6;
/** Memory target of the issue: every process under this, whatever the object's size. */
const RSS_TARGET_MIB = 200;

async function* pattern(bytes: number): AsyncGenerator<Uint8Array> {
  const chunk = randomBytes(CHUNK);
  for (let sent = 0; sent < bytes; sent += CHUNK) yield sent + CHUNK <= bytes ? chunk : chunk.subarray(0, bytes - sent);
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** The limit for a large put in MB/s, or null when the limits were not measured in this run. */
function putLimit(ctx: BenchContext): { mbps: number; how: string } | null {
  const get = (name: string): number | undefined => ctx.limits.find((l) => l.name === name)?.value;
  const aead = get('XChaCha20-Poly1305');
  const disk = get('sequential write');
  const tcp = get('loopback TCP');
  if (aead === undefined || disk === undefined || tcp === undefined) return null;
  const candidates: [number, string][] = [
    [aead, `XChaCha20-Poly1305 ${aead.toFixed(0)} MB/s`],
    [disk / REPLICATION, `sequential write ${disk.toFixed(0)} MB/s ÷ ${REPLICATION}`],
    [(tcp * 1000) / REPLICATION, `loopback ${(tcp * 1000).toFixed(0)} MB/s ÷ ${REPLICATION}`],
  ];
  const [mbps, how] = candidates.reduce((a, b) => (b[0] < a[0] ? b : a));
  return { mbps, how };
}

export const largeObjectsBenchmark: Benchmark = {
  name: 'large-put',
  title: 'Large-object put and get (1 GiB; 128 MiB in --quick), MB/s as % of the machine limit, and peak RSS of every process',
  async run(ctx) {
    const cluster = await settledCluster(ctx);
    const client = await directClient(cluster);
    const bytes = ctx.opts.quick ? 128 * 2 ** 20 : 2 ** 30;
    const boundMs = ctx.opts.quick ? 180_000 : 600_000;
    const key = `bench/${ctx.runId}/large`;

    ctx.log(`large-put: put of ${bytes / 2 ** 20} MiB`);
    let window = new RssWindow(ctx.rss.running());
    let t0 = performance.now();
    await bounded(client.put(key, () => pattern(bytes)), boundMs, 'the large put');
    let seconds = (performance.now() - t0) / 1000;
    let peaks = window.end();
    ctx.largeObject = { key, bytes };
    const limit = putLimit(ctx);
    const put = ctx.transfer({
      benchmark: 'large-put', workload: 'opera-put-large', label: `ObjectClient.put of ${bytes / 2 ** 20} MiB (streamed, encrypted, R = ${REPLICATION})`,
      amount: bytes, unit: 'bytes', seconds, rate: bytes / MB / seconds, peakRss: peaks,
      detail: `${limit ? `${((100 * bytes) / MB / seconds / limit.mbps).toFixed(0)}% of the limit ${limit.mbps.toFixed(0)} MB/s (${limit.how})` : 'limits not measured in this run'}; ` +
        `largest RSS meanwhile ${peaks[0]?.process ?? '?'} ${peaks[0]?.peakRssMiB.toFixed(0) ?? '?'} MiB`,
    });
    if (limit) {
      ctx.headlines.set('large-put', { value: put.rate / limit.mbps, how: `put ${put.rate.toFixed(1)} MB/s ÷ limit ${limit.mbps.toFixed(0)} MB/s (${limit.how})` });
    } else ctx.notes.push('large-put: no headline, the machine limits were not measured in this run (run it with `limits`)');

    ctx.log(`large-put: get of ${bytes / 2 ** 20} MiB`);
    window = new RssWindow(ctx.rss.running());
    t0 = performance.now();
    const got = await bounded((async () => {
      const res = await client.get(key);
      if (!res) throw new Error('the large object is not there');
      let n = 0;
      for await (const c of res.body) n += (c as Buffer).length;
      return n;
    })(), boundMs, 'the large get');
    seconds = (performance.now() - t0) / 1000;
    peaks = window.end();
    if (got !== bytes) throw new Error(`the large get returned ${got} bytes, expected ${bytes}`);
    ctx.transfer({
      benchmark: 'large-put', workload: 'opera-get-large', label: `ObjectClient.get of ${bytes / 2 ** 20} MiB (linearizable, decrypted)`,
      amount: bytes, unit: 'bytes', seconds, rate: bytes / MB / seconds, peakRss: peaks,
      detail: `${limit ? `${((100 * bytes) / MB / seconds / limit.mbps).toFixed(0)}% of the limit ${limit.mbps.toFixed(0)} MB/s` : 'limits not measured'}; ` +
        `largest RSS meanwhile ${peaks[0]?.process ?? '?'} ${peaks[0]?.peakRssMiB.toFixed(0) ?? '?'} MiB`,
    });
    const over = [...(put.peakRss ?? []), ...peaks].filter((p) => p.peakRssMiB > RSS_TARGET_MIB);
    if (over.length > 0) ctx.notes.push(`large-put: over the ${RSS_TARGET_MIB} MiB RSS target: ${[...new Set(over.map((p) => `${p.process} ${p.peakRssMiB.toFixed(0)} MiB`))].join(', ')}`);
  },
};
