// Catch-up from the op log. An entry records only which key a sequence number wrote; the
// data is read from the object itself, in the same snapshot. A put whose version is no
// longer the object's was replaced by a later op, which is also in the log: the caller
// skips it ('superseded'). Deletes are self-contained. Retention is in sequence numbers:
// every op above logFloor is kept; asking from below it means a full copy.
import { readStored } from './commit.js';
import { StoreArgumentError, PartitionBusyError } from './errors.js';
import { logKey, seqOfLogKey } from './layout.js';
import { readState } from './partition-states.js';
import { decodeLogEntry, EMPTY_STATE } from './records.js';
import type { OpEntry, OpsResult, StoreDb } from './types.js';

export const MAX_OPS_LIMIT = 10_000;

export async function opsSince(db: StoreDb, partition: number, afterSeq: number, limit = 1000): Promise<OpsResult> {
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new StoreArgumentError(`afterSeq must be a non-negative integer, got ${String(afterSeq)}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OPS_LIMIT) throw new StoreArgumentError(`limit must be an integer from 1 to ${MAX_OPS_LIMIT}`);
  const snapshot = db.snapshot();
  try {
    const state = (await readState(db, partition, snapshot)) ?? EMPTY_STATE;
    if (state.status !== 'active') throw new PartitionBusyError(partition, state.status);
    const { logFloor, lastSeq } = state;
    if (afterSeq > lastSeq) return { kind: 'full-copy-needed', reason: 'ahead-of-source', logFloor, lastSeq };
    if (afterSeq < logFloor) return { kind: 'full-copy-needed', reason: 'behind-retention', logFloor, lastSeq };
    const ops: OpEntry[] = [];
    let more = false;
    for await (const [k, v] of db.iterator({ gt: logKey(partition, afterSeq), lte: logKey(partition, lastSeq), limit: limit + 1, snapshot })) {
      if (ops.length === limit) {
        more = true;
        break;
      }
      const seq = seqOfLogKey(k);
      const entry = decodeLogEntry(seq, v);
      if (entry.op === 'delete') {
        ops.push({ kind: 'delete', seq, key: entry.key, createdAt: entry.createdAt });
        continue;
      }
      const stored = await readStored(db, partition, entry.key, snapshot);
      if (stored === null || stored.meta.version !== seq || stored.meta.deleted) ops.push({ kind: 'superseded', seq, key: entry.key });
      else ops.push({ kind: 'put', seq, key: entry.key, meta: stored.meta, inline: stored.inline });
    }
    return { kind: 'ops', ops, lastSeq, more };
  } finally {
    await snapshot.close();
  }
}
