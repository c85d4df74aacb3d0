// Reads: meta's linearizable whole-state read and its cheap local status read, against
// an etcd linearizable range of one 100-byte key. Interleaved per concurrency so that a
// change in the host's load hits both systems alike.
import type { Benchmark } from '../registry.js';
import { etcdRange, metaGet } from '../workloads.js';

const READ_KEY = 'bench/read-key';

export const metaReadBenchmark: Benchmark = {
  name: 'meta-read',
  title: 'Meta reads vs etcd linearizable range',
  async run(ctx) {
    const meta = await ctx.meta();
    const etcd = await ctx.etcd();
    const metaPids = meta.members.map((m) => m.proc.pid);
    if (etcd) {
      const res = await fetch(`${etcd.leaderUrl}${etcd.api}/kv/put`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from(READ_KEY).toString('base64'), value: Buffer.alloc(100, 'v').toString('base64') }),
      });
      if (!res.ok) throw new Error(`etcd: could not write the read key: HTTP ${res.status}`);
    }
    for (const c of ctx.timing.concurrencies) {
      const state = metaGet(meta.token, '/v1/meta/state?consistency=linearizable');
      await ctx.measure(
        { benchmark: 'meta-read', workload: 'meta-state-linearizable', system: 'meta', label: 'meta GET /v1/meta/state?consistency=linearizable (whole state, ReadIndex)' },
        { url: meta.leaderUrl, concurrency: c, ...state, serverPids: metaPids },
      );
      const status = metaGet(meta.token, '/v1/meta/status');
      await ctx.measure(
        { benchmark: 'meta-read', workload: 'meta-status-local', system: 'meta', label: 'meta GET /v1/meta/status (local, no quorum round)' },
        { url: meta.leaderUrl, concurrency: c, ...status, serverPids: metaPids },
      );
      if (etcd) {
        await ctx.measure(
          { benchmark: 'meta-read', workload: 'etcd-range-linearizable', system: 'etcd', label: 'etcd POST /v3/kv/range, one 100 B key, linearizable' },
          { url: etcd.leaderUrl, concurrency: c, ...etcdRange(etcd.api, READ_KEY), serverPids: etcd.members.map((m) => m.proc.pid) },
        );
      }
    }
  },
};
