// Repair: kill -9 a storage node holding a replica of the large object (and its share of
// everything else), then follow meta until every partition is back to R in-sync replicas.
// Reports the seconds from the kill until then (detection, the repair grace period of a
// dev cluster and the copies) and the MB/s re-replicated while the copies ran, against
// the nodes' repair bandwidth limit. Runs last: the cluster has one node fewer after it.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { REPAIR_BANDWIDTH_BYTES_PER_S, REPAIR_GRACE_MS } from '../opera-cluster.js';
import { directClient, settledCluster } from '../opera-client.js';
import type { Benchmark } from '../registry.js';
import { plans, repairMetrics, type PlanProgress } from '../repair-watch.js';

const MB = 1e6;
const POLL_MS = 250;

async function* pattern(bytes: number): AsyncGenerator<Uint8Array> {
  const chunk = randomBytes(2 ** 20);
  for (let sent = 0; sent < bytes; sent += chunk.length) yield sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent);
}

export const repairBenchmark: Benchmark = {
  name: 'repair',
  title: 'Re-replication after kill -9 of a node holding the large object (≥ 1 GiB; 128 MiB in --quick): MB/s and seconds until every partition is back to R',
  async run(ctx) {
    const cluster = await settledCluster(ctx);
    const client = await directClient(cluster);
    if (!ctx.largeObject) {
      const bytes = ctx.opts.quick ? 128 * 2 ** 20 : 2 ** 30;
      const key = `bench/${ctx.runId}/repair`;
      ctx.log(`repair: storing ${bytes / 2 ** 20} MiB first`);
      await client.put(key, () => pattern(bytes));
      ctx.largeObject = { key, bytes };
    }
    const { key, bytes } = ctx.largeObject;
    const route = await client.map.route(key);
    // A replica rather than the primary: the loss is repaired without a failover in the way.
    const holders = route.replicas.map((r) => r.id);
    const victimId = holders.find((id) => id !== route.primary?.id) ?? holders[0];
    const victim = cluster.nodes.find((n) => n.id === victimId);
    if (!victim) throw new Error(`no node of the cluster holds partition ${route.partition}`);
    const before = await repairMetrics(cluster);
    if (before && before.underReplicated > 0) ctx.log(`repair: ${before.underReplicated} partitions already under-replicated before the kill`);

    ctx.log(`repair: kill -9 ${victim.proc.name} (replica of partition ${route.partition}, which holds ${bytes / 2 ** 20} MiB)`);
    ctx.rss.final(victim.proc.pid);
    const killedAt = Date.now();
    const t0 = performance.now();
    victim.proc.child.kill('SIGKILL');
    await victim.proc.exited();

    const deadline = t0 + (ctx.opts.quick ? 180_000 : 900_000);
    let sawUnder = false;
    let underAt: number | null = null;
    let peakRemaining = 0;
    let mine: PlanProgress[] = [];
    let doneAt: number | null = null;
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const m = await repairMetrics(cluster).catch(() => undefined);
      const all = await plans(cluster).catch(() => null);
      if (all) mine = all.filter((p) => p.node === victim.id && p.created >= killedAt - 1000);
      if (!m) continue;
      peakRemaining = Math.max(peakRemaining, m.bytesRemaining);
      if (m.underReplicated > 0 && !sawUnder) {
        sawUnder = true;
        underAt = performance.now();
      }
      if (sawUnder && m.underReplicated === 0 && mine.length > 0 && mine.every((p) => p.state !== 'active')) {
        doneAt = performance.now();
        break;
      }
    }
    if (doneAt === null) {
      throw new Error(`not back to R within ${((deadline - t0) / 1000).toFixed(0)} s (under-replicated seen: ${sawUnder}; plans for ${victim.id}: ${mine.map((p) => `${p.state} ${p.progress.bytesDone}/${p.progress.bytesTotal} B`).join(', ') || 'none'})`);
    }
    const doneWall = killedAt + (doneAt - t0);
    const moved = mine.reduce((s, p) => s + p.progress.bytesDone, 0);
    const copyFrom = Math.min(...mine.map((p) => Math.max(p.created, p.notBefore)));
    const copySeconds = Math.max(0.001, (doneWall - copyFrom) / 1000);
    const targets = new Set(mine.flatMap((p) => p.moves.filter((m) => m.bytesDone > 0).map((m) => m.target)));
    const throttle = (REPAIR_BANDWIDTH_BYTES_PER_S * Math.max(1, targets.size)) / MB;
    const rate = moved / MB / copySeconds;
    const backToR = (doneAt - t0) / 1000;
    ctx.transfer({
      benchmark: 'repair', workload: 'opera-repair', label: `kill -9 of ${victim.id}, re-replication to R = 3 on the remaining nodes`,
      amount: moved, unit: 'bytes', seconds: copySeconds, rate,
      detail: `back to R ${backToR.toFixed(1)} s after the kill (first under-replicated at ${underAt === null ? '?' : ((underAt - t0) / 1000).toFixed(1)} s; ` +
        `repair grace ${REPAIR_GRACE_MS / 1000} s as in opera dev); ${(moved / 2 ** 20).toFixed(0)} MiB copied by ${mine.length} plan(s) to ${targets.size} node(s) ` +
        `in ${copySeconds.toFixed(1)} s from the end of the grace period; ${((100 * rate) / throttle).toFixed(0)}% of the throttle ` +
        `(${(REPAIR_BANDWIDTH_BYTES_PER_S / MB).toFixed(1)} MB/s per receiving node × ${Math.max(1, targets.size)}); peak bytes remaining in meta ${(peakRemaining / 2 ** 20).toFixed(0)} MiB`,
    });
    ctx.headlines.set('repair', { value: rate, how: `${(moved / 2 ** 20).toFixed(0)} MiB re-replicated in ${copySeconds.toFixed(1)} s; back to R ${backToR.toFixed(1)} s after the kill` });
  },
};
