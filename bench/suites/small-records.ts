// Small records: a 1 KiB put (R = 3, encrypted with its own data key, acknowledged once
// durable on the in-sync replicas) and a linearizable get (from the primary) through the
// client library in direct mode, against an etcd put and linearizable range of 1 KiB.
// Interleaved per concurrency; the headline is the ratio at the highest concurrency.
import { randomBytes } from 'node:crypto';
import type { BenchContext } from '../context.js';
import { dataPlanePids, directClient, settledCluster } from '../opera-client.js';
import type { Benchmark } from '../registry.js';
import { etcdPut, etcdRange } from '../workloads.js';

const VALUE_BYTES = 1024;
/** Keys read by small-get: enough to spread over every partition. */
const READ_KEYS = 256;
const ETCD_READ_KEY = 'bench/read-key-1k';

function ratioHeadline(ctx: BenchContext, key: string, ours: string, ref: string, what: string): void {
  const top = Math.max(...ctx.timing.concurrencies);
  const o = ctx.pointOf(ours, top);
  const r = ctx.pointOf(ref, top);
  if (o && r && r.opsPerSec > 0 && o.errors === 0 && r.errors === 0) {
    ctx.headlines.set(key, { value: o.opsPerSec / r.opsPerSec, how: `${what} at concurrency ${top}: ${o.opsPerSec.toFixed(0)} ÷ ${r.opsPerSec.toFixed(0)}` });
  }
}

export const smallPutBenchmark: Benchmark = {
  name: 'small-put',
  title: '1 KiB encrypted puts, R = 3, through the client library in direct mode, vs etcd put of 1 KiB (ratio at concurrency 64)',
  async run(ctx) {
    const cluster = await settledCluster(ctx);
    const client = await directClient(cluster);
    const etcd = await ctx.etcd();
    const value = randomBytes(VALUE_BYTES);
    for (const c of ctx.timing.concurrencies) {
      await ctx.measureOps(
        { benchmark: 'small-put', workload: 'opera-put-1k', system: 'opera', label: 'ObjectClient.put of 1 KiB (direct mode, R = 3, encrypted, durable)' },
        {
          concurrency: c, serverPids: dataPlanePids(cluster),
          op: async (w, i) => { await client.put(`bench/${ctx.runId}/c${c}/w${w}/${i}`, () => value); return 0; },
        },
      );
      if (etcd) {
        await ctx.measure(
          { benchmark: 'small-put', workload: 'etcd-put-1k', system: 'etcd', label: 'etcd POST /v3/kv/put, 1 KiB value' },
          { url: etcd.leaderUrl, concurrency: c, ...etcdPut(etcd.api, `${ctx.runId}-1k`, c, value), serverPids: etcd.members.map((m) => m.proc.pid) },
        );
      }
    }
    ratioHeadline(ctx, 'small-put', 'opera-put-1k', 'etcd-put-1k', 'puts/s ÷ etcd puts/s of 1 KiB');
  },
};

export const smallGetBenchmark: Benchmark = {
  name: 'small-get',
  title: '1 KiB linearizable gets through the client library in direct mode vs etcd linearizable range of 1 KiB (ratio at concurrency 64)',
  async run(ctx) {
    const cluster = await settledCluster(ctx);
    const client = await directClient(cluster);
    const etcd = await ctx.etcd();
    const value = randomBytes(VALUE_BYTES);
    const keys = Array.from({ length: READ_KEYS }, (_, n) => `bench/${ctx.runId}/read/${n}`);
    ctx.log(`small-get: writing ${READ_KEYS} keys of 1 KiB`);
    for (let n = 0; n < keys.length; n += 16) {
      await Promise.all(keys.slice(n, n + 16).map((k) => client.put(k, () => value)));
    }
    if (etcd) {
      const res = await fetch(`${etcd.leaderUrl}${etcd.api}/kv/put`, {
        method: 'POST', signal: AbortSignal.timeout(10_000),
        body: JSON.stringify({ key: Buffer.from(ETCD_READ_KEY).toString('base64'), value: value.toString('base64') }),
      });
      if (!res.ok) throw new Error(`etcd: could not write the read key: HTTP ${res.status}`);
    }
    for (const c of ctx.timing.concurrencies) {
      await ctx.measureOps(
        { benchmark: 'small-get', workload: 'opera-get-1k', system: 'opera', label: 'ObjectClient.getBytes of 1 KiB, linearizable (primary), decrypted' },
        {
          concurrency: c, serverPids: dataPlanePids(cluster),
          op: async (w, i) => {
            const got = await client.getBytes(keys[(w * 7919 + i) % keys.length]!);
            if (!got || got.length !== VALUE_BYTES) throw new Error(`read ${got ? `${got.length} bytes` : 'nothing'}, expected ${VALUE_BYTES}`);
            return got.length;
          },
        },
      );
      if (etcd) {
        await ctx.measure(
          { benchmark: 'small-get', workload: 'etcd-range-1k', system: 'etcd', label: 'etcd POST /v3/kv/range, one 1 KiB key, linearizable' },
          { url: etcd.leaderUrl, concurrency: c, ...etcdRange(etcd.api, ETCD_READ_KEY), serverPids: etcd.members.map((m) => m.proc.pid) },
        );
      }
    }
    ratioHeadline(ctx, 'small-get', 'opera-get-1k', 'etcd-range-1k', 'linearizable gets/s ÷ etcd linearizable ranges/s of 1 KiB');
  },
};
