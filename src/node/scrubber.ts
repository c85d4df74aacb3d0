// Scrubbing: a background pass over every partition this node holds in sync, calling
// store.scrub() to re-hash each stored value. A corrupt copy is logged, counted
// (opera_node_scrub_corrupt_total) and reported to meta by leaving the in-sync set
// (partition-reconfigure removing this node; a primary names the replica with the most
// acknowledged ops as its successor). Meta then makes this node a learner again and the
// partition is copied afresh from the primary, every digest verified: the corrupt object
// is re-fetched with the rest. The store has no way to rewrite one object at its version.
import type { CorruptObject } from './store/index.js';
import type { NodeContext } from './context.js';
import type { PartitionRoles } from './roles.js';

export interface ScrubReport {
  readonly checked: number;
  readonly corrupt: CorruptObject[];
  readonly reported: number[];
}

export class Scrubber {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<ScrubReport> | null = null;

  constructor(
    private readonly ctx: NodeContext,
    private readonly roles: PartitionRoles,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const loop = (): void => {
      this.#timer = setTimeout(() => {
        void this.runOnce().catch((err: Error) => this.ctx.log.error({ err }, 'scrub pass failed')).finally(() => {
          if (this.#timer !== null) loop();
        });
      }, this.intervalMs);
    };
    loop();
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One pass now (or the one already running). */
  runOnce(): Promise<ScrubReport> {
    this.#running ??= this.#pass().finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(): Promise<ScrubReport> {
    const { ctx } = this;
    const map = ctx.map.current;
    let checked = 0;
    const corrupt: CorruptObject[] = [];
    const reported: number[] = [];
    if (map === null) return { checked, corrupt, reported };
    for (let p = 0; p < map.partitions.length; p++) {
      const one = await this.#scrubPartition(p);
      checked += one.checked;
      corrupt.push(...one.corrupt);
      reported.push(...one.reported);
    }
    ctx.metrics.scrubRuns.inc({});
    return { checked, corrupt, reported };
  }

  /**
   * A read found rot in this partition: scrub it now rather than at the next pass, so the
   * copy leaves the in-sync set and is replaced from a peer without waiting (one check per
   * partition at a time; reads of the same rot meanwhile add nothing).
   */
  checkPartition(partition: number): void {
    if (this.#suspect.has(partition)) return;
    this.#suspect.add(partition);
    void this.#scrubPartition(partition)
      .catch((err: Error) => this.ctx.log.error({ err, partition }, 'scrub after a corrupt read failed'))
      .finally(() => this.#suspect.delete(partition));
  }

  readonly #suspect = new Set<number>();

  async #scrubPartition(p: number): Promise<ScrubReport> {
    const { ctx } = this;
    const none: ScrubReport = { checked: 0, corrupt: [], reported: [] };
    const role = this.roles.roleOf(p);
    if (role !== 'primary' && role !== 'replica') return none;
    const state = await ctx.store.partitionState(p);
    if (state === null || state.status !== 'active') return none;
    const result = await ctx.store.scrub(p);
    ctx.metrics.scrubChecked.inc({}, result.checked);
    if (result.corrupt.length === 0) return { ...none, checked: result.checked };
    for (const c of result.corrupt) ctx.metrics.scrubCorrupt.inc({ reason: c.reason });
    ctx.log.error({ partition: p, corrupt: result.corrupt }, 'scrub found stored bytes that do not match their digest');
    const reported = (await this.#report(p)) ? [p] : [];
    return { checked: result.checked, corrupt: result.corrupt, reported };
  }

  /** Leaves the in-sync set so that the partition is copied again; false when that cannot help. */
  async #report(partition: number): Promise<boolean> {
    const { ctx } = this;
    const record = ctx.map.partition(partition);
    if (record === undefined || record.replicas.length <= 1) {
      ctx.log.error({ partition }, 'no other in-sync replica to copy from: the corrupt objects cannot be repaired here');
      return false;
    }
    let primary: string | undefined;
    if (record.primary === ctx.self) {
      const core = this.roles.primary(partition)?.core;
      const others = record.replicas.filter((id) => id !== ctx.self);
      primary = others.sort((a, b) => (core ? core.ackedSeq(b) - core.ackedSeq(a) : 0))[0];
    }
    const result = await ctx.control.run({
      type: 'partition-reconfigure', partition, expectedEpoch: record.epoch, remove: [ctx.self], ...(primary !== undefined ? { primary } : {}),
    });
    if (!result.ok) ctx.log.warn({ partition, result }, 'meta refused to take the corrupt replica out of the in-sync set');
    await ctx.map.refresh().catch(() => undefined);
    return result.ok;
  }
}
