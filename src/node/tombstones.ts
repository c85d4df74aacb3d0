// Tombstone purging on a node: every so often, each partition this node holds in sync has
// its tombstones older than the retention period removed (store.purgeExpiredTombstones),
// but only below a sequence every in-sync replica has applied: on the primary its
// committed sequence, on a replica its own lastSeq (a replica only learns a sequence the
// primary sent it). Learner copies and partitions being dropped are left alone. Why this
// cannot make a deleted value come back: docs/data-plane.md, "Tombstone retention".
import type { NodeContext } from './context.js';
import type { Role } from './roles.js';
import type { PartitionRoles } from './roles.js';
import type { PartitionState } from './store/index.js';

export interface PurgeInput {
  readonly role: Role;
  readonly state: PartitionState | null;
  /** On the primary: its core, if any. */
  readonly primary: { readonly phase: string; readonly committedSeq: number; readonly handingOver: boolean } | null;
}

/** The sequence below which tombstones may go (exclusive), or null: not now. Pure. */
export function purgeBound(input: PurgeInput): number | null {
  const { role, state, primary } = input;
  if (state === null || state.status !== 'active' || state.tombstones === 0) return null;
  if (role === 'primary') {
    if (primary === null || primary.phase !== 'active' || primary.handingOver) return null;
    return Math.min(primary.committedSeq, state.lastSeq) + 1;
  }
  if (role === 'replica') return state.lastSeq + 1;
  return null; // a learner's copy is being replaced; a partition no longer ours is dropped
}

export class TombstonePurger {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;

  constructor(
    private readonly ctx: NodeContext,
    private readonly roles: PartitionRoles,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.runOnce().catch((err: Error) => this.ctx.log.warn({ err: err.message }, 'tombstone purge failed')), this.everyMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One pass over every partition now; resolves with the number purged. */
  runOnce(): Promise<number> {
    this.#running ??= this.#pass().finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(): Promise<number> {
    const { store, log, metrics } = this.ctx;
    let total = 0;
    for (const stats of await store.stats()) {
      const { partition } = stats;
      const core = this.roles.primary(partition)?.core ?? null;
      const bound = purgeBound({
        role: this.roles.roleOf(partition),
        state: stats,
        primary: core === null ? null : { phase: core.phase, committedSeq: core.committedSeq(), handingOver: core.handingOverTo !== null },
      });
      if (bound === null) continue;
      const purged = await store.purgeExpiredTombstones(partition, bound).catch((err: Error) => {
        log.warn({ partition, err: err.message }, 'tombstone purge of a partition failed');
        return 0;
      });
      if (purged > 0) log.info({ partition, purged, below: bound }, 'purged expired tombstones');
      total += purged;
    }
    if (total > 0) metrics.tombstonesPurged.inc({}, total);
    return total;
  }
}
