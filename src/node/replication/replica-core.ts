// The replica's side of leases, for every partition of a node, as a deterministic state
// machine (time is an argument). A replica that acknowledges a beacon promises not to
// help any other primary for leaseMs + graceMs: it will not campaign, and it reports the
// rest of the promise to a new primary, which waits for it before serving. A restarted
// node remembers no promise, so it behaves as if it had given one at start-up.
//
// Campaigning: an in-sync replica that has heard no beacon from its primary for
// leaseMs + graceMs (staggered by rank, so replicas rarely campaign together) asks meta
// to appoint the replica with the highest sequence (candidate.ts) and stops acknowledging
// that epoch's beacons from then on.
import { invariant } from './invariant.js';
import type { ReplicationTiming } from './timing.js';

export type BeaconVerdict = 'ok' | 'stale-epoch' | 'campaigning' | 'wrong-primary';

export interface ReplicaView {
  readonly epoch: number;
  readonly primary: string | null;
  /** The in-sync set, primary included. */
  readonly replicas: readonly string[];
}

interface PartitionLease {
  /** The newest epoch this node knows for the partition (map or messages). */
  epoch: number;
  primary: string | null;
  /** Latest promise: to whom, at which epoch, until when. */
  promise: { epoch: number; primary: string; until: number } | null;
  /** Last beacon acknowledged at the current epoch. */
  lastBeaconAt: number | null;
  /** When the current epoch and primary became known. */
  since: number;
  /** The epoch this node is campaigning against, if any. */
  campaigning: number | null;
  /** No campaign before this time (after an aborted one). */
  backoffUntil: number;
}

export class ReplicaLeases {
  readonly #timing: ReplicationTiming;
  readonly #startedAt: number;
  readonly #self: string;
  readonly #parts = new Map<number, PartitionLease>();

  constructor(self: string, timing: ReplicationTiming, startedAt: number) {
    this.#self = self;
    this.#timing = timing;
    this.#startedAt = startedAt;
  }

  /** The promise period: a lease plus the grace for clock-rate differences. */
  get promiseMs(): number {
    return this.#timing.leaseMs + this.#timing.graceMs;
  }

  knownEpoch(partition: number): number {
    return this.#parts.get(partition)?.epoch ?? 0;
  }

  /** A map (or a message) says the partition is at `epoch` with `primary`. Never moves back. */
  observe(partition: number, epoch: number, primary: string | null, now: number): void {
    const p = this.#part(partition, now);
    if (epoch < p.epoch) return;
    if (epoch > p.epoch || primary !== p.primary) {
      p.epoch = epoch;
      p.primary = primary;
      p.since = now;
      p.lastBeaconAt = null;
      if (p.campaigning !== null && p.campaigning < epoch) p.campaigning = null;
    }
  }

  /** A primary's beacon at `epoch`: acknowledged (and promised) or refused. */
  onBeacon(partition: number, epoch: number, primary: string, now: number): BeaconVerdict {
    const p = this.#part(partition, now);
    if (epoch < p.epoch) return 'stale-epoch';
    if (epoch === p.epoch && p.primary !== null && p.primary !== primary) return 'wrong-primary';
    if (p.campaigning !== null && p.campaigning >= epoch) return 'campaigning';
    this.observe(partition, epoch, primary, now);
    p.lastBeaconAt = now;
    p.promise = { epoch, primary, until: now + this.promiseMs };
    return 'ok';
  }

  /**
   * How long this node still promised some primary other than `newPrimary` (ms, ≥ 0),
   * counting the start-up guard. A new primary waits for it before serving. A promise to
   * `released`, the old primary that gave its lease up in a handover meta recorded, no
   * longer protects any lease and does not count.
   */
  promiseRemaining(partition: number, newPrimary: string, now: number, released: string | null = null): number {
    const guard = this.#startedAt + this.promiseMs - now;
    const p = this.#parts.get(partition);
    const promise = p?.promise;
    const counts = promise != null && promise.primary !== newPrimary && promise.primary !== released;
    const promised = counts ? promise.until - now : 0;
    return Math.max(0, guard, promised);
  }

  /** Ms since the last acknowledged beacon of the current epoch (Infinity if none). */
  sinceBeacon(partition: number, now: number): number {
    const at = this.#parts.get(partition)?.lastBeaconAt;
    return at === null || at === undefined ? Infinity : now - at;
  }

  /** Whether this replica should ask for a new primary now. */
  shouldCampaign(partition: number, view: ReplicaView, now: number): boolean {
    const p = this.#part(partition, now);
    if (view.epoch !== p.epoch || view.primary === null || view.primary === this.#self) return false;
    if (!view.replicas.includes(this.#self) || p.campaigning !== null || now < p.backoffUntil) return false;
    const others = view.replicas.filter((id) => id !== view.primary).sort();
    const rank = Math.max(0, others.indexOf(this.#self));
    const quietSince = Math.max(p.lastBeaconAt ?? -Infinity, p.since, this.#startedAt);
    const stagger = rank * (this.#timing.leaseMs / 2);
    const promiseOver = p.promise === null || p.promise.until <= now;
    return promiseOver && now - quietSince > this.promiseMs + stagger;
  }

  /** From now on this node refuses beacons of `epoch`: it is asking meta for a new primary. */
  startCampaign(partition: number, epoch: number, now: number): void {
    const p = this.#part(partition, now);
    invariant(p.campaigning === null, `partition ${partition}: a campaign is already running`);
    p.campaigning = epoch;
  }

  /** The campaign ended without a new epoch (aborted or refused): wait a lease before another. */
  abortCampaign(partition: number, now: number): void {
    const p = this.#part(partition, now);
    p.campaigning = null;
    p.backoffUntil = now + this.#timing.leaseMs;
    p.since = now;
  }

  campaigning(partition: number): boolean {
    return this.#parts.get(partition)?.campaigning != null;
  }

  #part(partition: number, now: number): PartitionLease {
    let p = this.#parts.get(partition);
    if (p === undefined) {
      p = { epoch: 0, primary: null, promise: null, lastBeaconAt: null, since: now, campaigning: null, backoffUntil: -Infinity };
      this.#parts.set(partition, p);
    }
    return p;
  }
}
