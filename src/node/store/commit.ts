// The commit of a put or a delete: under the partition's lock, check the precondition,
// epoch and sequence against the current record, then write in ONE batch the new object
// record, the deletion of the replaced version's chunks, the op-log entry and the new
// partition state. Before this batch nothing of the write is visible; after it, all is.
import type { AbstractSnapshot } from 'abstract-level';
import type { BatchOp } from './batch-writer.js';
import type { StoreContext } from './context.js';
import { PartitionBusyError, PreconditionFailedError, SequenceError, StaleEpochError } from './errors.js';
import { chunkKey, logKey, objectKey, partitionPrefix, stateKey, TAG_LOG } from './layout.js';
import { decodeObject, encodeLogEntry, encodeObject, encodeState, type StoredObject } from './records.js';
import type { ObjectMeta, PartitionState, StoreDb, WriteOptions } from './types.js';
import type { StagedValue } from './value-writer.js';
import { durable } from './durability.js';

export const EMPTY_DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export async function readStored(db: StoreDb, partition: number, key: string, snapshot?: AbstractSnapshot): Promise<StoredObject | null> {
  const raw = await db.get(objectKey(partition, key), snapshot ? { snapshot } : {});
  return raw === undefined ? null : decodeObject(key, raw);
}

/** Throws PreconditionFailedError unless `expect` holds for `current`. */
export function checkPrecondition(key: string, expect: WriteOptions['expectVersion'], current: StoredObject | null): void {
  if (expect === undefined) return;
  const live = current !== null && !current.meta.deleted ? current.meta.version : null;
  if (expect === 'absent' ? live !== null : live !== expect) throw new PreconditionFailedError(key, expect, live);
}

export function assertWritable(partition: number, state: PartitionState): void {
  if (state.status !== 'active') throw new PartitionBusyError(partition, state.status);
}

/** What a commit writes: a value staged by a ValueWriter, or a tombstone. */
export type CommitBody =
  | { readonly kind: 'put'; readonly staged: StagedValue; readonly contentType: string; readonly plainSize: number | null; readonly createdAt: number }
  | { readonly kind: 'delete'; readonly createdAt: number };

export interface CommitResult {
  readonly meta: ObjectMeta;
  readonly previous: StoredObject | null;
}

export async function commitWrite(
  ctx: StoreContext,
  partition: number,
  key: string,
  body: CommitBody,
  options: WriteOptions,
): Promise<CommitResult> {
  return ctx.locks.run(partition, async () => {
    const state = await ctx.states.current(partition);
    assertWritable(partition, state);
    if (options.epoch !== undefined && options.epoch !== state.epoch) throw new StaleEpochError(partition, options.epoch, state.epoch);
    const previous = await readStored(ctx.db, partition, key);
    checkPrecondition(key, options.expectVersion, previous);
    const seq = options.seq ?? state.lastSeq + 1;
    if (seq <= state.lastSeq) throw new SequenceError(`partition ${partition}: sequence ${seq} does not exceed the last applied ${state.lastSeq}`);

    const stored = storedOf(key, seq, body);
    const ops: BatchOp[] = [{ type: 'put', key: objectKey(partition, key), value: encodeObject(stored) }];
    if (previous !== null && previous.generation !== null) {
      for (let i = 0; i < previous.chunks; i++) ops.push({ type: 'del', key: chunkKey(partition, key, previous.generation, i) });
    }
    ops.push({ type: 'put', key: logKey(partition, seq), value: encodeLogEntry({ op: body.kind, key, createdAt: body.createdAt }) });
    const next = nextState(state, seq, previous, stored, ctx.opLogRetention);
    await writeWithState(ctx, partition, state, next, ops, ctx.sync && options.sync !== false);
    return { meta: stored.meta, previous };
  });
}

function storedOf(key: string, version: number, body: CommitBody): StoredObject {
  if (body.kind === 'delete') {
    const meta: ObjectMeta = { key, version, size: 0, plainSize: null, contentType: '', digest: EMPTY_DIGEST, createdAt: body.createdAt, deleted: true };
    return { meta, generation: null, chunkSize: 0, chunks: 0, inline: null };
  }
  const { staged } = body;
  const meta: ObjectMeta = {
    key,
    version,
    size: staged.size,
    plainSize: body.plainSize,
    contentType: body.contentType,
    digest: staged.digest,
    createdAt: body.createdAt,
    deleted: false,
  };
  if (staged.inline !== null) return { meta, generation: null, chunkSize: 0, chunks: 0, inline: staged.inline };
  return { meta, generation: staged.generation, chunkSize: staged.chunkSize, chunks: staged.chunks, inline: null };
}

/** The partition state after replacing `previous` by `stored` at `seq`. */
export function nextState(state: PartitionState, seq: number, previous: StoredObject | null, stored: StoredObject, retention: number): PartitionState {
  let { objects, bytes, tombstones } = state;
  if (previous !== null) {
    if (previous.meta.deleted) tombstones--;
    else {
      objects--;
      bytes -= previous.meta.size;
    }
  }
  if (stored.meta.deleted) tombstones++;
  else {
    objects++;
    bytes += stored.meta.size;
  }
  // Trim the op log in steps (an eighth of the retention) rather than on every write.
  const slack = Math.max(1, Math.floor(retention / 8));
  const logFloor = seq - state.logFloor > retention + slack ? seq - retention : state.logFloor;
  return { ...state, lastSeq: seq, logFloor, objects, bytes, tombstones };
}

/**
 * Writes `ops` and the partition's new state in one batch (the cached state is forgotten
 * if the batch fails, so the next reader takes it from disk), then trims the op log below
 * the new floor: entries at or below it are dead weight once the batch moved it.
 */
export async function writeWithState(
  ctx: StoreContext, partition: number, before: PartitionState, next: PartitionState, ops: BatchOp[], sync: boolean,
): Promise<void> {
  ops.push({ type: 'put', key: stateKey(partition), value: encodeState(next) });
  try {
    await ctx.db.batch(ops, durable(sync));
  } catch (err) {
    ctx.states.forget(partition);
    throw err;
  }
  ctx.states.remember(partition, next);
  if (next.logFloor > before.logFloor) {
    await ctx.db.clear({ gte: partitionPrefix(TAG_LOG, partition), lte: logKey(partition, next.logFloor) });
  }
}
