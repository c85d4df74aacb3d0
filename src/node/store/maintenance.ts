// Whole-partition operations: drop, state changes, tombstone purge. A drop is not one
// atomic step (a partition may hold gigabytes), so it first marks the state 'dropping'
// durably; a crash halfway leaves that mark, and the next open finishes the drop.
import type { BatchOp } from './batch-writer.js';
import { assertWritable, readStored } from './commit.js';
import type { StoreContext } from './context.js';
import { CorruptObjectError, SequenceError, StaleEpochError } from './errors.js';
import { keyOfObjectKey, objectKey, partitionPrefix, prefixRange, stateKey, TAG_CHUNK, TAG_LOG, TAG_OBJECT } from './layout.js';
import { decodeObject, EMPTY_STATE, encodeState, type StoredObject } from './records.js';
import type { PartitionState, StoreDb } from './types.js';
import { durable } from './durability.js';

/** Deletes every object, chunk and op-log record of a partition (not its state record). */
export async function clearPartitionData(db: StoreDb, partition: number): Promise<void> {
  // Objects first: from the first deletion on, nothing half-dropped is readable by key.
  for (const tag of [TAG_OBJECT, TAG_CHUNK, TAG_LOG]) await db.clear(prefixRange(partitionPrefix(tag, partition)));
}

/** Marks, clears, then deletes the state record. Call under the partition's lock. */
export async function dropLocked(ctx: StoreContext, partition: number): Promise<void> {
  const state = await ctx.states.load(partition);
  ctx.states.forget(partition);
  await ctx.db.put(stateKey(partition), encodeState({ ...(state ?? EMPTY_STATE), status: 'dropping' }), durable(ctx.sync));
  await clearPartitionData(ctx.db, partition);
  await ctx.db.del(stateKey(partition), durable(ctx.sync));
  ctx.states.remember(partition, null);
}

export interface StatePatch {
  /** Never decreases (fencing). */
  readonly epoch?: number;
  /** Never decreases; moves forward over ops that a later op superseded (catch-up). */
  readonly lastSeq?: number;
}

export async function setPartitionState(ctx: StoreContext, partition: number, patch: StatePatch): Promise<PartitionState> {
  return ctx.locks.run(partition, async () => {
    const state = await ctx.states.current(partition);
    assertWritable(partition, state);
    const epoch = patch.epoch ?? state.epoch;
    const lastSeq = patch.lastSeq ?? state.lastSeq;
    if (epoch < state.epoch) throw new StaleEpochError(partition, epoch, state.epoch);
    if (lastSeq < state.lastSeq) throw new SequenceError(`partition ${partition}: lastSeq ${lastSeq} is below the applied ${state.lastSeq}`);
    const next: PartitionState = { ...state, epoch, lastSeq };
    ctx.states.forget(partition);
    await ctx.db.put(stateKey(partition), encodeState(next), durable(ctx.sync));
    ctx.states.remember(partition, next);
    return next;
  });
}

const PURGE_PAGE = 512;
const SCAN_PAGE = 4096;

/**
 * Deletes tombstones whose version is below `beforeSeq` (the caller knows every replica
 * has applied them) and, when `createdUpTo` is given, whose delete happened at or before
 * that time (the retention period). Scans without the lock, then re-checks each candidate
 * under it, so a key re-created meanwhile is never touched. The op log is not touched: a
 * replica catching up still receives every delete from it (docs/data-plane.md,
 * "Tombstone retention"). Records that do not decode are left for scrub to report.
 * Returns how many tombstones were purged.
 */
export async function purgeTombstones(ctx: StoreContext, partition: number, beforeSeq: number, createdUpTo = Infinity): Promise<number> {
  const expired = (stored: StoredObject | null): boolean =>
    stored !== null && stored.meta.deleted && stored.meta.version < beforeSeq && stored.meta.createdAt <= createdUpTo;
  const range = prefixRange(partitionPrefix(TAG_OBJECT, partition));
  let purged = 0;
  let after: Buffer | null = null;
  for (;;) {
    const candidates: string[] = [];
    let last: Buffer | null = null;
    let scanned = 0;
    let full = false;
    for await (const [k, v] of ctx.db.iterator({ ...(after ? { gt: after, lt: range.lt } : range), limit: SCAN_PAGE })) {
      last = k;
      scanned++;
      const stored = decodeOrNull(k, v);
      if (expired(stored)) candidates.push((stored as StoredObject).meta.key);
      if (candidates.length >= PURGE_PAGE) {
        full = true;
        break;
      }
    }
    if (candidates.length > 0) purged += await purgeCandidates(ctx, partition, expired, candidates);
    if (!full && scanned < SCAN_PAGE) return purged;
    after = last;
  }
}

function decodeOrNull(k: Buffer, v: Buffer): StoredObject | null {
  try {
    return decodeObject(keyOfObjectKey(k), v);
  } catch (err) {
    if (err instanceof CorruptObjectError) return null;
    throw err;
  }
}

async function purgeCandidates(ctx: StoreContext, partition: number, expired: (stored: StoredObject | null) => boolean, keys: string[]): Promise<number> {
  return ctx.locks.run(partition, async () => {
    const state = await ctx.states.current(partition);
    assertWritable(partition, state);
    const ops: BatchOp[] = [];
    for (const key of keys) {
      const stored = await readStored(ctx.db, partition, key);
      if (expired(stored)) ops.push({ type: 'del', key: objectKey(partition, key) });
    }
    if (ops.length === 0) return 0;
    const next: PartitionState = { ...state, tombstones: state.tombstones - ops.length };
    ops.push({ type: 'put', key: stateKey(partition), value: encodeState(next) });
    ctx.states.forget(partition);
    await ctx.db.batch(ops, durable(ctx.sync));
    ctx.states.remember(partition, next);
    return ops.length - 1;
  });
}
