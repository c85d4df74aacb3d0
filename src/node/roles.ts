// What this node is for each partition, from the partition map: the primary (a
// PrimaryDriver per epoch), an in-sync replica (the lease book and the campaigner act on
// it), a learner (a copy runs) or nothing (the data is dropped after a grace period).
import type { PartitionRecord } from '../meta/types.js';
import type { NodeContext } from './context.js';
import type { LearnerTasks } from './learner.js';
import type { PartitionMap } from './meta-link.js';
import { CommitWaiters, WriteUnconfirmedError } from './replication/commit-waiters.js';
import { PrimaryDriver } from './replication/primary.js';

export type Role = 'primary' | 'replica' | 'learner' | 'none';

export class PartitionRoles {
  readonly #drivers = new Map<number, PrimaryDriver>();
  readonly #waiters = new Map<number, CommitWaiters>();
  /** Partitions held on disk but no longer in the map for this node: since when. */
  readonly #orphanSince = new Map<number, number>();
  #housekeeping: NodeJS.Timeout | null = null;
  #stopped = false;
  /** Draining: no new copies start (the node is leaving). */
  #draining = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly learners: LearnerTasks,
    private readonly dropGraceMs: number,
  ) {}

  start(): void {
    this.ctx.map.on('change', (map, previous) => this.#apply(map, previous));
    this.ctx.map.on('confirm', (sentAt, map) => this.#confirm(sentAt, map));
    const current = this.ctx.map.current;
    if (current !== null) this.#apply(current, null);
    this.#housekeeping = setInterval(() => void this.#dropOrphans(), Math.min(10_000, Math.max(1000, this.dropGraceMs / 4)));
  }

  stop(): void {
    this.#stopped = true;
    if (this.#housekeeping !== null) clearInterval(this.#housekeeping);
    for (const [p, driver] of this.#drivers) {
      driver.stop();
      this.#waitersOf(p).rejectAll(new WriteUnconfirmedError('unavailable', 'the node is stopping'));
    }
    this.#drivers.clear();
    this.learners.stopAll();
  }

  /** The node is leaving: copies stop and none starts; primaries and replicas go on until handed over. */
  beginDrain(): void {
    this.#draining = true;
    this.learners.stopAll();
  }

  drivers(): Iterable<PrimaryDriver> {
    return this.#drivers.values();
  }

  /** The driver of `partition` if this node is its primary at the map's current epoch. */
  primary(partition: number): PrimaryDriver | undefined {
    const driver = this.#drivers.get(partition);
    const record = this.ctx.map.partition(partition);
    return driver !== undefined && !driver.stopped && record?.epoch === driver.epoch ? driver : undefined;
  }

  roleOf(partition: number): Role {
    return roleIn(this.ctx.map.partition(partition), this.ctx.self);
  }

  waitersOf(partition: number): CommitWaiters {
    return this.#waitersOf(partition);
  }

  /** Whether some partition's read lease rests on meta's confirmations (no other replica). */
  soloPrimary(): boolean {
    for (const d of this.#drivers.values()) if (d.core !== null && d.core.members.length === 0) return true;
    return false;
  }

  #apply(map: PartitionMap, previous: PartitionMap | null): void {
    if (this.#stopped) return;
    const now = this.ctx.now();
    const minInsync = map.settings?.minInsync ?? 1;
    map.partitions.forEach((record, p) => {
      this.ctx.leases.observe(p, record.epoch, record.primary, now);
      const role = roleIn(record, this.ctx.self);
      const current = this.#drivers.get(p);
      if (role === 'primary') {
        if (current !== undefined && current.epoch === record.epoch) return;
        current?.stop();
        const driver = new PrimaryDriver(this.ctx, p, record, minInsync, this.#waitersOf(p), now + this.#holdOff(p, record, previous?.partitions[p], now));
        this.#drivers.set(p, driver);
        void driver.start().catch((err: Error) => this.ctx.log.error({ partition: p, err }, 'primary failed to start'));
      } else if (current !== undefined) {
        current.stop();
        this.#drivers.delete(p);
        const waiters = this.#waitersOf(p);
        waiters.rejectAll(new WriteUnconfirmedError('stale-epoch', `partition ${p}: this node stopped being the primary before every replica confirmed the write`));
        waiters.reset();
      }
      if (role === 'learner' && !this.#draining) this.learners.ensure(p);
      else if (this.learners.running(p) && role !== 'replica') this.learners.cancel(p);
      if (role !== 'none') this.#orphanSince.delete(p);
    });
  }

  /**
   * How long a new primary must wait before serving, beyond the promises its replicas
   * report: its own promises to another primary (and the restart guard), and a full
   * promise period when it was not an in-sync replica before (a promoted learner cannot
   * know what the old primary's lease rested on).
   */
  #holdOff(partition: number, record: PartitionRecord, before: PartitionRecord | undefined, now: number): number {
    const own = this.ctx.leases.promiseRemaining(partition, this.ctx.self, now, releasedBy(record));
    const wasOutside = before !== undefined && !before.replicas.includes(this.ctx.self) && before.primary !== null && before.primary !== this.ctx.self;
    return Math.max(own, wasOutside ? this.ctx.leases.promiseMs : 0);
  }

  #confirm(sentAt: number, map: PartitionMap): void {
    for (const d of this.#drivers.values()) {
      const record = map.partitions[d.partition];
      if (record?.epoch === d.epoch && record.primary === this.ctx.self) d.onMetaConfirm(sentAt);
    }
  }

  #waitersOf(partition: number): CommitWaiters {
    let w = this.#waiters.get(partition);
    if (w === undefined) this.#waiters.set(partition, (w = new CommitWaiters()));
    return w;
  }

  /** Drops partitions this node has held neither as replica nor as learner for the grace period. */
  async #dropOrphans(): Promise<void> {
    const map = this.ctx.map.current;
    if (map === null || this.#stopped) return;
    const now = this.ctx.now();
    let stats;
    try {
      stats = await this.ctx.store.stats();
    } catch {
      return;
    }
    for (const s of stats) {
      if (roleIn(map.partitions[s.partition], this.ctx.self) !== 'none' || this.learners.running(s.partition)) {
        this.#orphanSince.delete(s.partition);
        continue;
      }
      const since = this.#orphanSince.get(s.partition);
      if (since === undefined) this.#orphanSince.set(s.partition, now);
      else if (now - since >= this.dropGraceMs) {
        this.#orphanSince.delete(s.partition);
        this.ctx.log.info({ partition: s.partition, objects: s.objects, bytes: s.bytes }, 'dropping a partition this node no longer holds');
        await this.ctx.applyLocks.run(s.partition, () => this.ctx.store.dropPartition(s.partition)).catch((err: Error) => this.ctx.log.warn({ partition: s.partition, err: err.message }, 'drop failed'));
      }
    }
  }
}

/** The old primary that gave its lease up when this epoch began (meta's record of a handover), if any. */
export function releasedBy(record: PartitionRecord | undefined): string | null {
  return record?.handover !== undefined && record.handover.epoch === record.epoch ? record.handover.from : null;
}

export function roleIn(record: PartitionRecord | undefined, self: string): Role {
  if (record === undefined) return 'none';
  if (record.primary === self && record.replicas.includes(self)) return 'primary';
  if (record.replicas.includes(self)) return 'replica';
  if (record.learners.includes(self)) return 'learner';
  return 'none';
}
