// Group commit of many small puts to one partition: under the partition's lock, each item
// is checked (precondition against the record on disk or an earlier item of the same
// batch) and given the next sequence, and everything the accepted items write — object
// records, replaced chunks' deletions, op-log entries, the final partition state — goes
// in ONE (synced) LevelDB batch. Either all accepted items are durable or none is. Items
// are inline values only; larger ones take the streaming path (putStream).
import { createHash } from 'node:crypto';
import { validateKey } from '../../common/keys.js';
import type { BatchOp } from './batch-writer.js';
import { assertWritable, checkPrecondition, nextState, readStored, writeWithState } from './commit.js';
import type { StoreContext } from './context.js';
import { PreconditionFailedError, StaleEpochError, StoreArgumentError } from './errors.js';
import { chunkKey, logKey, objectKey } from './layout.js';
import { encodeLogEntry, encodeObject, type StoredObject } from './records.js';
import { checkPutMeta } from './options.js';
import type { ObjectMeta } from './types.js';

export interface ManyItem {
  readonly key: string;
  /** The stored bytes (ciphertext), at most the store's inline limit. */
  readonly value: Buffer;
  readonly contentType: string;
  readonly plainSize?: number | null;
  /** A version (If-Match) or 'absent' (If-None-Match: *). */
  readonly expectVersion?: number | 'absent';
}

export type ManyResult = { readonly ok: true; readonly meta: ObjectMeta } | { readonly ok: false; readonly error: PreconditionFailedError };

export interface ManyOutcome {
  readonly results: ManyResult[];
  /** The highest sequence written; null when no item was. */
  readonly lastSeq: number | null;
}

export const MAX_MANY_ITEMS = 1000;

/** Checks every item before anything is locked or written. */
export function checkManyItems(items: readonly ManyItem[], inlineLimit: number): void {
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_MANY_ITEMS) {
    throw new StoreArgumentError(`a batch holds 1 to ${MAX_MANY_ITEMS} items`);
  }
  items.forEach((item, i) => {
    validateKey(item.key);
    checkPutMeta({ contentType: item.contentType, ...(item.plainSize !== undefined ? { plainSize: item.plainSize } : {}) });
    if (!Buffer.isBuffer(item.value) || item.value.length > inlineLimit) {
      throw new StoreArgumentError(`items[${i}]: a batched value must be at most ${inlineLimit} bytes; send larger ones alone`);
    }
  });
}

export async function commitMany(ctx: StoreContext, partition: number, items: readonly ManyItem[], epoch: number | undefined): Promise<ManyOutcome> {
  return ctx.locks.run(partition, async () => {
    const state = await ctx.states.current(partition);
    assertWritable(partition, state);
    if (epoch !== undefined && epoch !== state.epoch) throw new StaleEpochError(partition, epoch, state.epoch);
    const createdAt = ctx.now();
    const ops: BatchOp[] = [];
    const results: ManyResult[] = [];
    // What this batch already wrote per key: a later item of the same key replaces it.
    const written = new Map<string, StoredObject>();
    let next = state;
    for (const item of items) {
      const previous = written.get(item.key) ?? (await readStored(ctx.db, partition, item.key));
      try {
        checkPrecondition(item.key, item.expectVersion, previous);
      } catch (err) {
        if (err instanceof PreconditionFailedError) {
          results.push({ ok: false, error: err });
          continue;
        }
        throw err;
      }
      const seq = next.lastSeq + 1;
      const meta: ObjectMeta = {
        key: item.key, version: seq, size: item.value.length, plainSize: item.plainSize ?? null, contentType: item.contentType,
        digest: createHash('sha256').update(item.value).digest('hex'), createdAt, deleted: false,
      };
      const stored: StoredObject = { meta, generation: null, chunkSize: 0, chunks: 0, inline: item.value };
      ops.push({ type: 'put', key: objectKey(partition, item.key), value: encodeObject(stored) });
      if (previous !== null && previous.generation !== null && !written.has(item.key)) {
        for (let i = 0; i < previous.chunks; i++) ops.push({ type: 'del', key: chunkKey(partition, item.key, previous.generation, i) });
      }
      ops.push({ type: 'put', key: logKey(partition, seq), value: encodeLogEntry({ op: 'put', key: item.key, createdAt }) });
      next = nextState(next, seq, previous, stored, ctx.opLogRetention);
      written.set(item.key, stored);
      results.push({ ok: true, meta });
    }
    if (written.size === 0) return { results, lastSeq: null };
    await writeWithState(ctx, partition, state, next, ops, ctx.sync);
    return { results, lastSeq: next.lastSeq };
  });
}
