// Failover: an in-sync replica that has heard no beacon from its primary for a lease plus
// the grace (ReplicaLeases.shouldCampaign) stops acknowledging that primary, asks the
// other replicas where they are, and asks meta, with the epoch it saw, to appoint the one
// with the highest sequence and drop the silent ones (candidate.ts). Meta's epoch check
// makes concurrent campaigns safe: one wins, the others see a stale epoch.
import type { NodeContext } from '../context.js';
import { chooseCandidate, type PeerStatus } from './candidate.js';

export class Campaigner {
  #timer: NodeJS.Timeout | null = null;
  readonly #running = new Set<number>();

  constructor(private readonly ctx: NodeContext) {}

  start(): void {
    this.#timer = setInterval(() => this.#check(), Math.max(20, this.ctx.timing.beaconMs / 2));
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    const map = this.ctx.map.current;
    if (map === null) return;
    const now = this.ctx.now();
    map.partitions.forEach((record, partition) => {
      if (this.#running.has(partition)) return;
      if (!this.ctx.leases.shouldCampaign(partition, record, now)) return;
      this.#running.add(partition);
      void this.#campaign(partition, record.epoch, record.primary as string, record.replicas).finally(() => this.#running.delete(partition));
    });
  }

  async #campaign(partition: number, epoch: number, oldPrimary: string, replicas: readonly string[]): Promise<void> {
    const { leases, peers, map, store, control, log, metrics, timing, self } = this.ctx;
    leases.startCampaign(partition, epoch, this.ctx.now());
    log.warn({ partition, epoch, oldPrimary }, 'no beacon from the primary for a lease and its grace: asking for a new primary');
    const others = replicas.filter((id) => id !== self && id !== oldPrimary);
    const statuses: PeerStatus[] = await Promise.all(others.map(async (id): Promise<PeerStatus> => {
      const url = map.nodeUrl(id);
      if (url === undefined) return { id, answered: false };
      try {
        return { id, answered: true, ...(await peers.status(url, partition, timing.timeoutMs)) };
      } catch {
        return { id, answered: false };
      }
    }));
    const own = await store.partitionState(partition);
    if (own === null || own.status !== 'active') {
      log.warn({ partition }, 'this node does not hold the partition\'s data: it cannot take over');
      metrics.campaigns.inc({ outcome: 'aborted' });
      leases.abortCampaign(partition, this.ctx.now());
      return;
    }
    const selfSeq = own.lastSeq;
    const decision = chooseCandidate({ self, selfSeq, epoch, oldPrimary, peers: statuses, leaseMs: timing.leaseMs });
    if (decision.kind === 'abort') {
      log.info({ partition, reason: decision.reason }, 'campaign aborted');
      metrics.campaigns.inc({ outcome: 'aborted' });
      leases.abortCampaign(partition, this.ctx.now());
      return;
    }
    try {
      const result = await control.run({ type: 'partition-reconfigure', partition, expectedEpoch: epoch, primary: decision.primary, remove: decision.remove });
      if (result.ok) {
        log.warn({ partition, newPrimary: decision.primary, removed: decision.remove, epoch: epoch + 1 }, 'meta appointed a new primary');
        metrics.campaigns.inc({ outcome: 'appointed' });
      } else {
        log.info({ partition, code: result.code, message: result.message }, 'meta refused the new primary');
        metrics.campaigns.inc({ outcome: 'refused' });
        leases.abortCampaign(partition, this.ctx.now());
      }
    } catch (err) {
      log.warn({ partition, err: (err as Error).message }, 'campaign could not reach meta');
      metrics.campaigns.inc({ outcome: 'failed' });
      leases.abortCampaign(partition, this.ctx.now());
    }
    await map.refresh().catch(() => undefined);
  }
}
