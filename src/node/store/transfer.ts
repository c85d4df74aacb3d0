// Partition copy for replication and repair. The export reads one snapshot, so the copy is
// exactly the partition at its lastSeq. The import holds the partition's lock, marks the
// partition 'importing' (never served, dropped at the next open if the copy is cut short),
// re-chunks every value, and makes an object visible only after its size and digest match
// what the sender announced. Any failure drops everything imported so far.
import { validateKey } from '../../common/keys.js';
import { BatchWriter } from './batch-writer.js';
import type { StoreContext } from './context.js';
import { DigestMismatchError, ImportError, PartitionBusyError, PartitionNotEmptyError, SizeMismatchError } from './errors.js';
import { keyOfObjectKey, objectKey, partitionPrefix, prefixRange, stateKey, TAG_OBJECT } from './layout.js';
import { clearPartitionData } from './maintenance.js';
import { readState } from './partition-states.js';
import { decodeObject, EMPTY_STATE, encodeObject, encodeState, type StoredObject } from './records.js';
import type { ExportRecord, ObjectMeta, PartitionState, StoreDb } from './types.js';
import { readChunks } from './value-reader.js';
import { ValueWriter } from './value-writer.js';
import { durable } from './durability.js';

export async function* exportPartition(db: StoreDb, partition: number): AsyncGenerator<ExportRecord> {
  const snapshot = db.snapshot();
  try {
    const state = (await readState(db, partition, snapshot)) ?? EMPTY_STATE;
    if (state.status !== 'active') throw new PartitionBusyError(partition, state.status);
    yield { kind: 'partition', partition, epoch: state.epoch, lastSeq: state.lastSeq };
    let objects = 0;
    for await (const [k, v] of db.iterator({ ...prefixRange(partitionPrefix(TAG_OBJECT, partition)), snapshot })) {
      const stored = decodeObject(keyOfObjectKey(k), v);
      yield { kind: 'object', meta: stored.meta, inline: stored.inline };
      if (stored.generation !== null) {
        let index = 0;
        for await (const bytes of readChunks(db, partition, stored, snapshot)) yield { kind: 'chunk', key: stored.meta.key, index: index++, bytes };
      }
      objects++;
    }
    yield { kind: 'end', objects };
  } finally {
    await snapshot.close();
  }
}

/** An object of the copy whose bytes are still arriving. */
interface Incoming {
  readonly meta: ObjectMeta;
  readonly writer: ValueWriter | null; // null for tombstones
  nextChunk: number;
}

export async function importPartition(ctx: StoreContext, partition: number, records: AsyncIterable<ExportRecord>): Promise<PartitionState> {
  return ctx.locks.run(partition, async () => {
    if ((await ctx.states.load(partition)) !== null || !(await objectRangeEmpty(ctx.db, partition))) throw new PartitionNotEmptyError(partition);
    const sink = new BatchWriter(ctx.db, { sync: ctx.sync, maxBytes: ctx.batchBytes, maxOps: 1000 });
    let begun = false;
    try {
      const state = await importRecords(ctx, partition, records, sink, () => (begun = true));
      ctx.states.remember(partition, state);
      return state;
    } catch (err) {
      sink.discard();
      ctx.states.forget(partition);
      if (begun) {
        await clearPartitionData(ctx.db, partition);
        await ctx.db.del(stateKey(partition), durable(ctx.sync));
        ctx.states.remember(partition, null);
      }
      throw err;
    }
  });
}

async function importRecords(
  ctx: StoreContext,
  partition: number,
  records: AsyncIterable<ExportRecord>,
  sink: BatchWriter,
  onBegin: () => void,
): Promise<PartitionState> {
  let header: { epoch: number; lastSeq: number } | null = null;
  let current: Incoming | null = null;
  let counts = { objects: 0, bytes: 0, tombstones: 0 };
  let received = 0;
  let ended = false;

  for await (const record of records) {
    if (ended) throw new ImportError('records after the end of the copy');
    switch (record.kind) {
      case 'partition': {
        if (header !== null) throw new ImportError('a second partition header');
        if (record.partition !== partition) throw new ImportError(`copy of partition ${record.partition} offered for partition ${partition}`);
        if (!isCount(record.epoch) || !isCount(record.lastSeq)) throw new ImportError('partition header with bad epoch or lastSeq');
        header = { epoch: record.epoch, lastSeq: record.lastSeq };
        onBegin();
        const importing: PartitionState = { ...EMPTY_STATE, epoch: header.epoch, status: 'importing' };
        await ctx.db.put(stateKey(partition), encodeState(importing), durable(ctx.sync));
        break;
      }
      case 'object': {
        if (header === null) throw new ImportError('object before the partition header');
        if (current !== null) counts = await finishObject(partition, current, sink, counts);
        current = startObject(ctx, partition, record.meta, header.lastSeq, sink);
        if (record.inline !== null) {
          if (current.writer === null) throw new ImportError(`tombstone ${JSON.stringify(record.meta.key)} carries a value`);
          await current.writer.write(record.inline);
          current.nextChunk = -1; // inline: no chunk records may follow
        }
        received++;
        break;
      }
      case 'chunk': {
        if (current === null || current.writer === null || record.key !== current.meta.key || record.index !== current.nextChunk) {
          throw new ImportError(`unexpected chunk ${record.index} of ${JSON.stringify(record.key)}`);
        }
        await current.writer.write(record.bytes);
        current.nextChunk++;
        break;
      }
      case 'end': {
        if (header === null) throw new ImportError('end before the partition header');
        if (current !== null) counts = await finishObject(partition, current, sink, counts);
        current = null;
        if (record.objects !== received) throw new ImportError(`copy announced ${record.objects} objects, carried ${received}`);
        ended = true;
        break;
      }
      default:
        throw new ImportError(`unknown record kind ${String((record as { kind: unknown }).kind)}`);
    }
  }
  if (header === null || !ended) throw new ImportError('the copy ended early (no end record)');
  const state: PartitionState = { ...EMPTY_STATE, ...counts, epoch: header.epoch, lastSeq: header.lastSeq, logFloor: header.lastSeq };
  await sink.put(stateKey(partition), encodeState(state));
  await sink.flush();
  return state;
}

function startObject(ctx: StoreContext, partition: number, meta: ObjectMeta, lastSeq: number, sink: BatchWriter): Incoming {
  try {
    validateKey(meta.key);
  } catch (err) {
    throw new ImportError(`copy carries an invalid key: ${(err as Error).message}`);
  }
  if (!isCount(meta.version) || meta.version < 1 || meta.version > lastSeq) {
    throw new ImportError(`object ${JSON.stringify(meta.key)} has version ${meta.version}, outside 1..${lastSeq}`);
  }
  const fieldsOk =
    isCount(meta.size) &&
    typeof meta.digest === 'string' &&
    /^[0-9a-f]{64}$/.test(meta.digest) &&
    typeof meta.contentType === 'string' &&
    isCount(meta.createdAt) &&
    (meta.plainSize === null || isCount(meta.plainSize)) &&
    typeof meta.deleted === 'boolean';
  if (!fieldsOk) throw new ImportError(`object ${JSON.stringify(meta.key)} has malformed metadata`);
  const writer = meta.deleted ? null : new ValueWriter(partition, meta.key, ctx.nextGeneration(), sink, ctx.layout);
  return { meta, writer, nextChunk: 0 };
}

type Counts = { objects: number; bytes: number; tombstones: number };

async function finishObject(partition: number, incoming: Incoming, sink: BatchWriter, counts: Counts): Promise<Counts> {
  const { meta, writer } = incoming;
  let stored: StoredObject;
  if (writer === null) {
    stored = { meta: { ...meta, size: 0 }, generation: null, chunkSize: 0, chunks: 0, inline: null };
  } else {
    const staged = await writer.finish();
    if (staged.size !== meta.size) throw new SizeMismatchError(meta.key, meta.size, staged.size);
    if (staged.digest !== meta.digest) throw new DigestMismatchError(meta.key, meta.digest, staged.digest);
    stored = staged.inline !== null
      ? { meta, generation: null, chunkSize: 0, chunks: 0, inline: staged.inline }
      : { meta, generation: staged.generation, chunkSize: staged.chunkSize, chunks: staged.chunks, inline: null };
  }
  // After its chunks in the same sink: the record can never be visible without them.
  await sink.put(objectKey(partition, meta.key), encodeObject(stored));
  return meta.deleted
    ? { ...counts, tombstones: counts.tombstones + 1 }
    : { ...counts, objects: counts.objects + 1, bytes: counts.bytes + meta.size };
}

async function objectRangeEmpty(db: StoreDb, partition: number): Promise<boolean> {
  for await (const _ of db.keys({ ...prefixRange(partitionPrefix(TAG_OBJECT, partition)), limit: 1 })) return false;
  return true;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
