// Both ends of an ops batch over the store. buildBatch turns the op log after a sequence
// into a batch (values streamed from the store when they are not inline); applyBatch
// applies a received batch in sequence order, fenced by epoch. The primary's senders,
// the /ops route, adoption by a new primary and a learner's tail catch-up all use them.
import type { NodeStore, ObjectRead, OpEntry } from '../store/index.js';
import { StaleEpochError } from '../store/index.js';
import type { OpsHeader, OpsReader, OutgoingOp } from '../wire/ops-codec.js';
import { WireError } from '../wire/byte-reader.js';

export interface BatchLimits {
  readonly maxOps: number;
  /** Values larger than this go alone in their batch. */
  readonly maxBytes: number;
}

export const DEFAULT_BATCH: BatchLimits = { maxOps: 256, maxBytes: 4 * 1024 * 1024 };

export type BuiltBatch =
  | { readonly kind: 'batch'; readonly header: OpsHeader; readonly ops: OutgoingOp[]; readonly bytes: number; release(): Promise<void> }
  | { readonly kind: 'empty'; readonly lastSeq: number }
  | { readonly kind: 'full-copy-needed'; readonly reason: string; readonly lastSeq: number };

/** The ops after `fromSeq`, up to the limits. Call release() if the batch is not sent. */
export async function buildBatch(store: NodeStore, partition: number, epoch: number, fromSeq: number, limits: BatchLimits = DEFAULT_BATCH): Promise<BuiltBatch> {
  const res = await store.opsSince(partition, fromSeq, { limit: limits.maxOps });
  if (res.kind === 'full-copy-needed') return { kind: 'full-copy-needed', reason: res.reason, lastSeq: res.lastSeq };
  if (res.ops.length === 0) {
    if (res.lastSeq <= fromSeq) return { kind: 'empty', lastSeq: res.lastSeq };
    // Sequences without a log entry here (ops this store skipped as superseded): move past them.
    return { kind: 'batch', header: { partition, epoch, fromSeq, toSeq: res.lastSeq, count: 0 }, ops: [], bytes: 0, release: async () => {} };
  }
  const taken: OpEntry[] = [];
  let bytes = 0;
  for (const op of res.ops) {
    const size = op.kind === 'put' ? op.meta.size : 0;
    if (taken.length > 0 && bytes + size > limits.maxBytes) break;
    taken.push(op);
    bytes += size;
  }
  const complete = taken.length === res.ops.length && !res.more;
  const toSeq = complete ? res.lastSeq : taken[taken.length - 1]!.seq;
  const reads: ObjectRead[] = [];
  const ops: OutgoingOp[] = [];
  try {
    for (const op of taken) ops.push(await outgoing(store, partition, op, reads));
  } catch (err) {
    await Promise.all(reads.map((r) => r.close()));
    throw err;
  }
  const header: OpsHeader = { partition, epoch, fromSeq, toSeq, count: ops.length };
  return { kind: 'batch', header, ops, bytes, release: async () => void (await Promise.all(reads.map((r) => r.close()))) };
}

async function outgoing(store: NodeStore, partition: number, op: OpEntry, reads: ObjectRead[]): Promise<OutgoingOp> {
  if (op.kind === 'superseded') return { op: 'skip', seq: op.seq };
  if (op.kind === 'delete') return { op: 'delete', seq: op.seq, key: op.key, createdAt: op.createdAt };
  const { meta } = op;
  const valueMeta = { contentType: meta.contentType, plainSize: meta.plainSize, digest: meta.digest, size: meta.size, createdAt: meta.createdAt };
  if (op.inline !== null) return { op: 'put', seq: op.seq, key: op.key, meta: valueMeta, body: once(op.inline) };
  // Chunked: open the value now (a snapshot); if a later write replaced it meanwhile, that
  // write is a later op of the log and this one is skipped.
  const read = await store.getStream(partition, op.key);
  if (read === null || read.meta.version !== op.seq) {
    await read?.close();
    return { op: 'skip', seq: op.seq };
  }
  reads.push(read);
  return { op: 'put', seq: op.seq, key: op.key, meta: valueMeta, body: read.body };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  if (bytes.length > 0) yield bytes;
}

/** The receiver is not where the batch starts; it answers with where it is. */
export class SequenceGapError extends Error {
  constructor(readonly partition: number, readonly lastSeq: number, readonly fromSeq: number) {
    super(`partition ${partition} is at sequence ${lastSeq}; the batch starts after ${fromSeq}`);
    this.name = 'SequenceGapError';
  }
}

/**
 * Applies one batch to the local store, in order: refuses an epoch older than the
 * partition's, raises the partition's epoch to a newer one first (fencing whoever sent the
 * older), and needs lastSeq = fromSeq. Returns the new lastSeq. The caller serializes
 * batches per partition.
 */
export async function applyBatch(store: NodeStore, partition: number, reader: OpsReader, onHeader?: (h: OpsHeader) => void): Promise<number> {
  const header = await reader.header();
  if (header.partition !== partition) throw new WireError('malformed', `a batch of partition ${header.partition} sent to partition ${partition}`);
  let state = await store.partitionState(partition);
  const epoch = state?.epoch ?? 0;
  if (header.epoch < epoch) throw new StaleEpochError(partition, header.epoch, epoch);
  onHeader?.(header);
  if (state === null || header.epoch > epoch) state = await store.setPartitionState(partition, { epoch: header.epoch });
  if (state.lastSeq !== header.fromSeq) throw new SequenceGapError(partition, state.lastSeq, header.fromSeq);
  let lastSeq = state.lastSeq;
  // Group commit: the ops are written without an fsync each, and made durable together by
  // one synced write before the batch is acknowledged (a crash before it loses a suffix of
  // the batch, which the primary sends again: the receiver never acknowledged it).
  for (let op = await reader.next(); op !== null; op = await reader.next()) {
    const options = { seq: op.seq, epoch: header.epoch, sync: false };
    if (op.op === 'put') {
      const { meta } = op;
      await store.putStream(partition, op.key, { contentType: meta.contentType, plainSize: meta.plainSize, digest: meta.digest, size: meta.size, createdAt: meta.createdAt }, op.body, options);
      lastSeq = op.seq;
    } else if (op.op === 'delete') {
      await store.delete(partition, op.key, { ...options, createdAt: op.createdAt });
      lastSeq = op.seq;
    }
  }
  if (lastSeq > state.lastSeq) await store.syncPartition(partition);
  if (header.toSeq > lastSeq) lastSeq = (await store.setPartitionState(partition, { lastSeq: header.toSeq })).lastSeq;
  return lastSeq;
}
