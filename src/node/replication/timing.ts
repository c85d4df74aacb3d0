// The timing parameters of the replication protocol (docs/data-plane.md, "Leases").
export interface ReplicationTiming {
  /** A primary serves linearizable reads for this long after a beacon round every replica acknowledged. */
  readonly leaseMs: number;
  /** Margin for clock-rate differences: a replica's promise lasts leaseMs + graceMs. */
  readonly graceMs: number;
  /** A replica that neither acknowledges nor makes progress for this long is removed. */
  readonly timeoutMs: number;
  /** How often the primary sends beacons. */
  readonly beaconMs: number;
}

export const DEFAULT_TIMING: ReplicationTiming = { leaseMs: 4000, graceMs: 1000, timeoutMs: 3000, beaconMs: 1000 };

export function checkTiming(t: ReplicationTiming): void {
  const ok = [t.leaseMs, t.graceMs, t.timeoutMs, t.beaconMs].every((n) => Number.isFinite(n) && n > 0);
  if (!ok) throw new Error('replication timings must be positive numbers of ms');
  if (t.beaconMs * 2 > t.leaseMs) throw new Error('beacons must go out at least twice per lease period');
  if (t.timeoutMs <= t.beaconMs) throw new Error('the replication timeout must exceed the beacon interval');
}

/** Timings derived from one lease length, in the default proportions. */
export function timingFromLease(leaseMs: number): ReplicationTiming {
  return { leaseMs, graceMs: Math.ceil(leaseMs / 4), timeoutMs: Math.ceil((leaseMs * 3) / 4), beaconMs: Math.ceil(leaseMs / 4) };
}
