// The per-partition state records, cached in memory. Only code holding the partition's
// lock writes a state record, and it updates the cache after its batch succeeded, so the
// cache never runs ahead of the disk. Readers outside the lock read the database.
import type { AbstractSnapshot } from 'abstract-level';
import { stateKey } from './layout.js';
import { decodeState, EMPTY_STATE } from './records.js';
import type { PartitionState, StoreDb } from './types.js';

export class PartitionStates {
  readonly #db: StoreDb;
  readonly #cache = new Map<number, PartitionState | null>();

  constructor(db: StoreDb) {
    this.#db = db;
  }

  /** The state record (null when the partition has none); cached. Call under the lock. */
  async load(partition: number): Promise<PartitionState | null> {
    const cached = this.#cache.get(partition);
    if (cached !== undefined) return cached;
    const state = await readState(this.#db, partition);
    this.#cache.set(partition, state);
    return state;
  }

  /** The state, or the empty state of a partition never written. Call under the lock. */
  async current(partition: number): Promise<PartitionState> {
    return (await this.load(partition)) ?? EMPTY_STATE;
  }

  /** The cached state, if any, without touching the disk or the cache (any caller). */
  peek(partition: number): PartitionState | null | undefined {
    return this.#cache.get(partition);
  }

  /** Records what a successful batch wrote (null: the record was deleted). */
  remember(partition: number, state: PartitionState | null): void {
    this.#cache.set(partition, state);
  }

  /** Forgets a partition, so the next load reads the disk (after a failed batch). */
  forget(partition: number): void {
    this.#cache.delete(partition);
  }
}

export async function readState(db: StoreDb, partition: number, snapshot?: AbstractSnapshot): Promise<PartitionState | null> {
  const raw = await db.get(stateKey(partition), snapshot ? { snapshot } : {});
  return raw === undefined ? null : decodeState(partition, raw);
}
