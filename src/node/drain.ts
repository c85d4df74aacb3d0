// The first half of a graceful drain (SIGTERM): before the listener closes, the node
// leaves every in-sync set it belongs to while it still answers other nodes. Each
// partition it leads is handed over to its most caught-up healthy replica (the same
// handover as balancing, dropping this node in the same epoch); from each partition it
// only replicates it asks meta to drop it. Then no write anywhere waits for this node
// to time out. A node that is the only replica of a partition keeps it (nothing to hand
// to). Bounded by the deadline and a number of rounds.
import type { NodeContext } from './context.js';
import { sleep } from './meta-link.js';
import { drainSuccessor } from './replication/handover-core.js';
import { handOver } from './replication/handover.js';
import type { PartitionRoles } from './roles.js';

const MAX_ROUNDS = 40;
const ROUND_PAUSE_MS = 100;

export interface DrainReport {
  readonly handedOver: number;
  readonly left: number;
  /** Partitions still held when the drain gave up (or had no one to hand to). */
  readonly kept: number[];
}

export async function leaveReplicaSets(ctx: NodeContext, roles: PartitionRoles, deadline: number): Promise<DrainReport> {
  const { self, log, control, map } = ctx;
  let handedOver = 0;
  let left = 0;
  let kept: number[] = [];
  for (let round = 0; round < MAX_ROUNDS && ctx.now() < deadline; round++) {
    await map.refresh().catch(() => undefined);
    const current = map.current;
    const replication = current?.settings?.replication;
    if (current === null || replication === undefined) break;
    kept = [];
    const work: Promise<void>[] = [];
    let pending = false;
    current.partitions.forEach((record, partition) => {
      if (!record.replicas.includes(self)) return;
      if (record.replicas.length === 1) {
        kept.push(partition); // the only copy: leaving would lose it
        return;
      }
      pending = true;
      if (record.primary !== self) {
        work.push(control.run({ type: 'partition-reconfigure', partition, expectedEpoch: record.epoch, remove: [self] })
          .then((r) => {
            if (r.ok) left++;
            else log.info({ partition, code: r.code }, 'drain: leaving the in-sync set was refused; retrying');
          }, (err: Error) => log.warn({ partition, err: err.message }, 'drain: cannot reach meta')));
        return;
      }
      const driver = roles.primary(partition);
      const core = driver?.core;
      if (driver === undefined || core === null || core === undefined || core.phase !== 'active') return; // activating: next round
      const to = drainSuccessor(partition, current.nodes, replication, core);
      if (to === null) return;
      const fallbacks = core.fencedMembers().filter((id) => id !== to);
      const settleMs = Math.max(0, Math.min(ctx.timing.timeoutMs, deadline - ctx.now()));
      work.push(handOver(ctx, driver, to, { leave: true, settleMs, fallbacks }).then((outcome) => {
        if (outcome === 'handed-over') handedOver++;
      }));
    });
    if (!pending) break;
    await Promise.all(work);
    await sleep(ROUND_PAUSE_MS);
  }
  const report = { handedOver, left, kept };
  log.info(report, 'drain: left the in-sync sets');
  return report;
}
