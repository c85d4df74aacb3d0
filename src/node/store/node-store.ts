// The storage engine of a storage node: one LevelDB (or any abstract-level database with
// explicit snapshots) holding every partition replica of the node. docs/node-storage.md
// describes the layout, the write path and its atomicity, and the read path.
import { ClassicLevel } from 'classic-level';
import { validateKey } from '../../common/keys.js';
import { BatchWriter } from './batch-writer.js';
import { assertWritable, checkPrecondition, commitWrite, readStored } from './commit.js';
import { checkManyItems, commitMany, type ManyItem, type ManyOutcome } from './commit-many.js';
import type { StoreContext } from './context.js';
import { DigestMismatchError, SequenceError, SizeMismatchError, StaleEpochError, StoreClosedError } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { assertPartition, chunkGroupPrefix, partitionOfKey, prefixRange, stateKey, tagRange, TAG_PARTITION } from './layout.js';
import { listObjects } from './listing.js';
import { dropLocked, purgeTombstones, setPartitionState, type StatePatch } from './maintenance.js';
import { openRead } from './object-read.js';
import { opsSince } from './op-log.js';
import { checkPutMeta, checkWriteOptions, resolveSettings, type Settings } from './options.js';
import { PartitionStates, readState } from './partition-states.js';
import { decodeState, EMPTY_STATE, encodeState } from './records.js';
import { durable } from './durability.js';
import { recover } from './recovery.js';
import { scrub, type ScrubResult } from './scrub.js';
import { exportPartition, importPartition } from './transfer.js';
import type {
  DeleteOptions,
  DeleteResult,
  ExportRecord,
  ListOptions,
  ListPage,
  ObjectMeta,
  ObjectRead,
  OpsResult,
  PartitionState,
  PartitionStats,
  PutMeta,
  ReadOptions,
  RecoveryReport,
  StoreDb,
  StoreOptions,
  WriteOptions,
} from './types.js';
import { ValueWriter, type StagedValue } from './value-writer.js';

export class NodeStore {
  readonly #ctx: StoreContext;
  readonly #ownsDb: boolean;
  /** What the open-time sweep cleaned up. */
  readonly recovery: RecoveryReport;
  #closed = false;

  /**
   * Opens the store on a LevelDB directory (created if missing) or on a database the
   * caller opened with buffer keys and values (the caller then closes it).
   */
  static async open(location: string | StoreDb, options: StoreOptions = {}): Promise<NodeStore> {
    const settings = resolveSettings(options);
    const ownsDb = typeof location === 'string';
    // Ciphertext does not compress: snappy would only burn CPU on it.
    const db: StoreDb = ownsDb ? new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer', compression: false }) : location;
    await db.open();
    try {
      if (db.keyEncoding().commonName !== 'buffer' || db.valueEncoding().commonName !== 'buffer') {
        throw new Error('NodeStore needs a database opened with keyEncoding and valueEncoding "buffer"');
      }
      if (!db.supports.explicitSnapshots) throw new Error('NodeStore needs a database with explicit snapshots (classic-level or memory-level 3)');
      const { report, maxGeneration } = await recover(db);
      return new NodeStore(db, settings, ownsDb, report, maxGeneration);
    } catch (err) {
      if (ownsDb) await db.close();
      throw err;
    }
  }

  private constructor(db: StoreDb, settings: Settings, ownsDb: boolean, recovery: RecoveryReport, maxGeneration: number) {
    let generation = maxGeneration;
    this.#ownsDb = ownsDb;
    this.recovery = recovery;
    this.#ctx = {
      db,
      sync: settings.sync,
      layout: { inlineLimit: settings.inlineLimit, chunkSize: settings.chunkSize },
      batchBytes: settings.batchBytes,
      opLogRetention: settings.opLogRetention,
      tombstoneRetentionMs: settings.tombstoneRetentionMs,
      locks: new KeyedMutex<number>(),
      states: new PartitionStates(db),
      now: settings.now,
      nextGeneration: () => ++generation,
    };
  }

  /** How old a tombstone must be before the maintenance purge may remove it (ms). */
  get tombstoneRetentionMs(): number {
    return this.#ctx.tombstoneRetentionMs;
  }

  /** The underlying database (tests, tooling). */
  get db(): StoreDb {
    return this.#ctx.db;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDb) await this.#ctx.db.close();
  }

  /**
   * Stores a value read from `source` with bounded memory. Nothing is visible until the
   * commit batch (record + op-log entry + partition state) is written; a failure at any
   * point, the source's included, removes the chunks written so far.
   */
  async putStream(partition: number, key: string, meta: PutMeta, source: AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<ObjectMeta> {
    this.#assertOpen();
    assertPartition(partition);
    validateKey(key);
    checkPutMeta(meta);
    checkWriteOptions(options);
    await this.#precheck(partition, key, options);
    const { db, sync, batchBytes, layout } = this.#ctx;
    const generation = this.#ctx.nextGeneration();
    const sink = new BatchWriter(db, { sync: sync && options.sync !== false, maxBytes: batchBytes });
    const writer = new ValueWriter(partition, key, generation, sink, layout);
    try {
      for await (const piece of source) {
        await writer.write(piece);
        if (meta.size !== undefined && writer.size > meta.size) throw new SizeMismatchError(key, meta.size, writer.size);
      }
      const staged: StagedValue = await writer.finish();
      if (meta.size !== undefined && staged.size !== meta.size) throw new SizeMismatchError(key, meta.size, staged.size);
      if (meta.digest !== undefined && staged.digest !== meta.digest) throw new DigestMismatchError(key, meta.digest, staged.digest);
      await sink.flush(); // chunks durable before the record that points at them
      const body = { kind: 'put', staged, contentType: meta.contentType, plainSize: meta.plainSize ?? null, createdAt: meta.createdAt ?? this.#ctx.now() } as const;
      return (await commitWrite(this.#ctx, partition, key, body, options)).meta;
    } catch (err) {
      sink.discard();
      if (sink.flushedOps > 0) {
        // Best effort: if this fails too, the sweep at the next open removes them.
        await db.clear(prefixRange(chunkGroupPrefix(partition, key, generation))).catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * Stores many small values (each within the inline limit) in one synced batch: one
   * fsync for all of them. Items whose precondition fails are reported and not written.
   */
  async putMany(partition: number, items: readonly ManyItem[], options: { epoch?: number } = {}): Promise<ManyOutcome> {
    this.#assertOpen();
    assertPartition(partition);
    checkManyItems(items, this.#ctx.layout.inlineLimit);
    checkWriteOptions(options);
    return commitMany(this.#ctx, partition, items, options.epoch);
  }

  /**
   * Makes every earlier write durable: one synced write (of the partition's state, as it
   * is), which flushes the database's log with all that came before it. The group commit
   * of writes made with `sync: false`.
   */
  async syncPartition(partition: number): Promise<void> {
    this.#assertOpen();
    assertPartition(partition);
    if (!this.#ctx.sync) return;
    await this.#ctx.locks.run(partition, async () => {
      const state = await this.#ctx.states.current(partition);
      await this.#ctx.db.put(stateKey(partition), encodeState(state), durable(true));
    });
  }

  /** Writes a tombstone as a new version; the value's chunks go in the same batch. */
  async delete(partition: number, key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    this.#assertOpen();
    assertPartition(partition);
    validateKey(key);
    checkWriteOptions(options);
    const createdAt = options.createdAt ?? this.#ctx.now();
    const { meta, previous } = await commitWrite(this.#ctx, partition, key, { kind: 'delete', createdAt }, options);
    return { version: meta.version, existed: previous !== null && !previous.meta.deleted };
  }

  async head(partition: number, key: string, options: { includeTombstones?: boolean } = {}): Promise<ObjectMeta | null> {
    this.#assertOpen();
    assertPartition(partition);
    validateKey(key);
    const stored = await readStored(this.#ctx.db, partition, key);
    if (stored === null || (stored.meta.deleted && options.includeTombstones !== true)) return null;
    return stored.meta;
  }

  /** Null when absent or deleted. The caller reads `body` to its end or calls close(). */
  async getStream(partition: number, key: string, options: ReadOptions = {}): Promise<ObjectRead | null> {
    this.#assertOpen();
    assertPartition(partition);
    validateKey(key);
    return openRead(this.#ctx.db, partition, key, options);
  }

  async list(partition: number, options: ListOptions = {}): Promise<ListPage> {
    this.#assertOpen();
    assertPartition(partition);
    return listObjects(this.#ctx.db, partition, options);
  }

  /** The partition at one consistent point: header, every object with its chunks, end. */
  exportPartition(partition: number): AsyncIterable<ExportRecord> {
    this.#assertOpen();
    assertPartition(partition);
    return exportPartition(this.#ctx.db, partition);
  }

  /** Loads a copy made by exportPartition into an empty partition, verifying every digest. */
  async importRecords(partition: number, records: AsyncIterable<ExportRecord>): Promise<PartitionState> {
    this.#assertOpen();
    assertPartition(partition);
    return importPartition(this.#ctx, partition, records);
  }

  async dropPartition(partition: number): Promise<void> {
    this.#assertOpen();
    assertPartition(partition);
    await this.#ctx.locks.run(partition, () => dropLocked(this.#ctx, partition));
  }

  /**
   * The partition's state as last committed. The cache is updated only after a batch has
   * succeeded, so it is what a read of the database an instant earlier would return;
   * beacons ask for it for every partition, and a database read each time showed in the
   * profiles of puts.
   */
  async partitionState(partition: number): Promise<PartitionState | null> {
    this.#assertOpen();
    assertPartition(partition);
    const cached = this.#ctx.states.peek(partition);
    return cached !== undefined ? cached : readState(this.#ctx.db, partition);
  }

  /** Raises the epoch (fencing) or moves lastSeq forward; creates the partition if new. */
  async setPartitionState(partition: number, patch: StatePatch): Promise<PartitionState> {
    this.#assertOpen();
    assertPartition(partition);
    return setPartitionState(this.#ctx, partition, patch);
  }

  async opsSince(partition: number, afterSeq: number, options: { limit?: number } = {}): Promise<OpsResult> {
    this.#assertOpen();
    assertPartition(partition);
    return opsSince(this.#ctx.db, partition, afterSeq, options.limit);
  }

  /** Re-reads and re-hashes every object (of one partition, or all) and reports mismatches. */
  async scrub(partition?: number): Promise<ScrubResult> {
    this.#assertOpen();
    if (partition !== undefined) assertPartition(partition);
    return scrub(this.#ctx.db, partition);
  }

  /** Objects, bytes, tombstones and sequence of every partition, kept with each commit. */
  async stats(): Promise<PartitionStats[]> {
    this.#assertOpen();
    const out: PartitionStats[] = [];
    for await (const [k, v] of this.#ctx.db.iterator(tagRange(TAG_PARTITION))) {
      const partition = partitionOfKey(k);
      out.push({ partition, ...decodeState(partition, v) });
    }
    return out;
  }

  /** Removes tombstones older than `beforeSeq`; returns how many. */
  async purgeTombstones(partition: number, beforeSeq: number): Promise<number> {
    this.#assertOpen();
    assertPartition(partition);
    return purgeTombstones(this.#ctx, partition, beforeSeq);
  }

  /**
   * The maintenance purge: removes tombstones below `beforeSeq` (a sequence every in-sync
   * replica has applied) whose delete is older than the retention period. Returns how many.
   */
  async purgeExpiredTombstones(partition: number, beforeSeq: number): Promise<number> {
    this.#assertOpen();
    assertPartition(partition);
    return purgeTombstones(this.#ctx, partition, beforeSeq, this.#ctx.now() - this.#ctx.tombstoneRetentionMs);
  }

  /** Refuses early what the commit would refuse, before gigabytes are streamed. */
  async #precheck(partition: number, key: string, options: WriteOptions): Promise<void> {
    // Only lock holders may fill the cache: on a miss, read the disk without caching.
    const cached = this.#ctx.states.peek(partition);
    const state = (cached === undefined ? await readState(this.#ctx.db, partition) : cached) ?? EMPTY_STATE;
    assertWritable(partition, state);
    if (options.epoch !== undefined && options.epoch !== state.epoch) throw new StaleEpochError(partition, options.epoch, state.epoch);
    if (options.seq !== undefined && options.seq <= state.lastSeq) {
      throw new SequenceError(`partition ${partition}: sequence ${options.seq} does not exceed the last applied ${state.lastSeq}`);
    }
    if (options.expectVersion !== undefined) checkPrecondition(key, options.expectVersion, await readStored(this.#ctx.db, partition, key));
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }
}
