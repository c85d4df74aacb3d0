// Writes: a small meta command through the Raft log (a `revoke` with a unique id,
// answered once committed and applied) against an etcd put of a 100-byte value.
// Interleaved per concurrency; the headline is the ratio at the highest concurrency.
import type { Benchmark } from '../registry.js';
import { etcdPut, metaCommand, revokeCommand } from '../workloads.js';

export const metaCommandBenchmark: Benchmark = {
  name: 'meta-command',
  title: 'Meta command vs etcd put',
  async run(ctx) {
    const meta = await ctx.meta();
    const etcd = await ctx.etcd();
    const size = Buffer.byteLength(JSON.stringify(revokeCommand(ctx.runId, 64, 63, 99_999)));
    const value = Buffer.alloc(100, 'x');
    for (const c of ctx.timing.concurrencies) {
      await ctx.measure(
        { benchmark: 'meta-command', workload: 'meta-command', system: 'meta', label: `meta POST /v1/meta/commands, revoke (${size} B command)` },
        { url: meta.leaderUrl, concurrency: c, ...metaCommand(meta.token, ctx.runId, c), serverPids: meta.members.map((m) => m.proc.pid) },
      );
      if (etcd) {
        await ctx.measure(
          { benchmark: 'meta-command', workload: 'etcd-put', system: 'etcd', label: 'etcd POST /v3/kv/put, 100 B value' },
          { url: etcd.leaderUrl, concurrency: c, ...etcdPut(etcd.api, ctx.runId, c, value), serverPids: etcd.members.map((m) => m.proc.pid) },
        );
      }
    }
    const top = Math.max(...ctx.timing.concurrencies);
    const ours = ctx.pointOf('meta-command', top);
    const ref = ctx.pointOf('etcd-put', top);
    if (ours && ref && ref.opsPerSec > 0 && ours.errors === 0 && ref.errors === 0) {
      ctx.headlines.set('meta', {
        value: ours.opsPerSec / ref.opsPerSec,
        how: `meta commands/s ÷ etcd puts/s at concurrency ${top}: ${ours.opsPerSec.toFixed(0)} ÷ ${ref.opsPerSec.toFixed(0)}`,
      });
    }
  },
};
