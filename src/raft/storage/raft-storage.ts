// Durable storage for the Raft core: the write-ahead log plus the snapshot file, with
// group commit. The driver calls save() with each Ready's snapshot, entries and hard
// state; whatever saves are waiting while a write is in flight go out together in the
// next record under a single fdatasync.

import { mkdir } from 'node:fs/promises';
import type { Entry, HardState, Snapshot } from '../types.js';
import { RaftStorageUnavailableError } from './errors.js';
import { LogState, type SaveBatch, type WritePlan } from './log-state.js';
import { recover, type Warn } from './recover.js';
import { writeSnapshotFile } from './snapshot-file.js';
import { WalWriter } from './wal-writer.js';
import type { WalOp } from './ops.js';

export type { SaveBatch } from './log-state.js';

export interface RaftStorageOptions {
  /** Rotate to a new segment once the active one would pass this size. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** fdatasync every batch (default true). false is for throwaway clusters and tests only. */
  readonly sync?: boolean;
  /** Observes each WAL fdatasync's duration, e.g. for an fsync-latency histogram. */
  readonly onSync?: (ms: number) => void;
  /** Awaited before each WAL fdatasync: a test-only slow-disk fault (src/common/fault-disk.ts). */
  readonly beforeSync?: () => Promise<void>;
  /** Told about repairs made at open (a torn tail cut, an interrupted segment recreated). */
  readonly onWarn?: Warn;
}

export interface StoredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot index, contiguous. */
  readonly entries: Entry[];
}

interface Job extends WritePlan {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 1024;

export class RaftStorage {
  private queue: Job[] = [];
  private draining: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly sync: boolean,
    private readonly wal: WalWriter,
    private readonly log: LogState,
  ) {}

  static async open(dir: string, opts: RaftStorageOptions = {}): Promise<RaftStorage> {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('RaftStorage.open needs a directory path');
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < MIN_SEGMENT_BYTES) {
      throw new RangeError(`segmentBytes must be an integer >= ${MIN_SEGMENT_BYTES}, got ${segmentBytes}`);
    }
    const sync = opts.sync ?? true;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const rec = await recover(dir, opts.onWarn ?? (() => {}));
    const head = { hardState: rec.hardState, snapshot: rec.snapshot && { index: rec.snapshot.meta.index, term: rec.snapshot.meta.term } };
    const wal = await WalWriter.open(dir, { segmentBytes, sync, onSync: opts.onSync, beforeSync: opts.beforeSync }, rec.catalog, rec.active, head);
    try {
      // Bring the WAL in line with what reconciliation decided, so replay stays a pure
      // function of the files and later appends follow on from a consistent log.
      const fix: WalOp[] = [];
      if (rec.snapshot && rec.missingSnapshotRecord) {
        fix.push({ kind: 'snapshot', index: rec.snapshot.meta.index, term: rec.snapshot.meta.term, reset: rec.logReplaced });
      }
      if (rec.hardStateRaised || fix.length > 0) fix.push({ kind: 'hardState', hardState: rec.hardState });
      await wal.append(fix);
      if (rec.snapshot) await wal.removeCovered(rec.snapshot.meta.index);
    } catch (err) {
      await wal.close();
      throw err;
    }
    return new RaftStorage(dir, sync, wal, new LogState(rec.snapshot, rec.entries, rec.hardState));
  }

  /** The stored state: what open() recovered, plus any saves since. */
  load(): StoredState {
    return this.log.view();
  }

  /** Persists a Ready's snapshot, entries and hard state; resolves once they are durable. */
  save(batch: SaveBatch): Promise<void> {
    return this.submit(() => this.log.applySave(batch));
  }

  /** The application's compaction: stores `snapshot` and drops the entries it covers. */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.submit(() => this.log.applyCompaction(snapshot));
  }

  /** Waits for pending saves, then releases the files. Later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining;
    await this.wal.close();
  }

  private submit(plan: () => WritePlan): Promise<void> {
    if (this.failure) return Promise.reject(new RaftStorageUnavailableError('an earlier write failed; restart to recover', { cause: this.failure }));
    if (this.closed) return Promise.reject(new RaftStorageUnavailableError('storage is closed'));
    let p: WritePlan;
    try {
      p = plan(); // validated and applied in call order; nothing is queued if it throws
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...p, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve(); // let saves issued in the same tick join the first group
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        try {
          await this.writeGroup(group);
        } catch (err) {
          // After a failed write or fsync the on-disk state is unknown (and the kernel may
          // have dropped the dirty pages): refuse everything from now on.
          this.failure = err instanceof Error ? err : new Error(String(err));
          const failed = new RaftStorageUnavailableError('write failed', { cause: this.failure });
          for (const job of [...group, ...this.queue]) job.reject(failed);
          this.queue = [];
          return;
        }
        for (const job of group) job.resolve();
      }
    } finally {
      this.draining = null;
    }
  }

  private async writeGroup(group: readonly Job[]): Promise<void> {
    // Only the newest snapshot of the group needs a file; it goes first so that no WAL
    // record ever names a snapshot the directory does not hold.
    const snapshot = group.findLast((j) => j.snapshotFile !== null)?.snapshotFile ?? null;
    if (snapshot) await writeSnapshotFile(this.dir, snapshot, this.sync);
    const ops = group.flatMap((j) => j.ops);
    await this.wal.append(ops);
    if (snapshot) await this.wal.removeCovered(snapshot.meta.index);
  }
}
