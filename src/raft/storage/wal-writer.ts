// Appends batches of ops to the active segment: one record and one fdatasync per batch,
// rotation to a new segment past a size limit, deletion of segments a snapshot covers.

import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState } from '../types.js';
import { fsyncDir, timed, writeAll } from './fsutil.js';
import { encodeOps, type WalOp } from './ops.js';
import { encodeRecord, encodeSegmentHeader, RECORD_HEADER_BYTES, saltSeed, SEGMENT_HEADER_BYTES } from './record.js';
import { SegmentCatalog, segmentName } from './segments.js';

export interface WalWriterOptions {
  readonly segmentBytes: number;
  readonly sync: boolean;
  readonly onSync: ((ms: number) => void) | undefined;
  /** Awaited before each record's fdatasync (a test-only slow-disk fault; see src/common/fault-disk.ts). */
  readonly beforeSync?: (() => Promise<void>) | undefined;
}

/** The segment being appended to, as recovery left it. */
export interface ActiveSegment {
  readonly seq: number;
  readonly salt: number;
  /** Bytes of valid content (header + whole records); anything beyond is cut on open. */
  readonly size: number;
}

/** What a new segment starts with, to stand on its own once older segments are gone. */
export interface SegmentHead {
  readonly hardState: HardState;
  readonly snapshot: { readonly index: number; readonly term: number } | null;
}

function headOps(head: SegmentHead): WalOp[] {
  const ops: WalOp[] = [{ kind: 'hardState', hardState: head.hardState }];
  if (head.snapshot) ops.push({ kind: 'snapshot', index: head.snapshot.index, term: head.snapshot.term, reset: false });
  return ops;
}

export class WalWriter {
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly opts: WalWriterOptions,
    private readonly catalog: SegmentCatalog,
    private fh: FileHandle,
    private seq: number,
    private seed: number,
    private size: number,
    /** The latest hard state and snapshot written: copied to the head of each new segment. */
    private head: SegmentHead,
  ) {}

  /**
   * Opens the active segment for appending, cutting it to `active.size`; with no active
   * segment (empty directory, or a segment whose header never became durable) starts `seq`.
   */
  static async open(
    dir: string,
    opts: WalWriterOptions,
    catalog: SegmentCatalog,
    active: ActiveSegment | { seq: number; salt: null },
    head: SegmentHead,
  ): Promise<WalWriter> {
    let writer: WalWriter;
    if (active.salt === null) {
      const { fh, salt } = await createSegment(dir, active.seq, opts.sync, true);
      if (catalog.lastSeq !== active.seq) catalog.add(active.seq);
      writer = new WalWriter(dir, opts, catalog, fh, active.seq, saltSeed(salt), SEGMENT_HEADER_BYTES, head);
    } else {
      const fh = await open(join(dir, segmentName(active.seq)), 'r+');
      writer = new WalWriter(dir, opts, catalog, fh, active.seq, saltSeed(active.salt), active.size, head);
    }
    try {
      const { size } = await writer.fh.stat();
      if (active.salt !== null && size !== active.size) {
        await writer.fh.truncate(active.size);
        if (opts.sync) await writer.fh.datasync();
      }
      // A segment left empty by a crash gets its head now: until it has one, older
      // segments still hold the hard state and must not be deleted.
      await writer.append([]);
    } catch (err) {
      await writer.close();
      throw err;
    }
    return writer;
  }

  /**
   * Appends `ops` as one record and makes it durable. A segment's first record starts
   * with its head (so `append([])` on an empty segment writes just the head).
   */
  async append(ops: readonly WalOp[]): Promise<void> {
    if (this.closed) throw new Error('WAL writer is closed');
    if (ops.length === 0 && this.size > SEGMENT_HEADER_BYTES) return;
    const payload = encodeOps(ops);
    const full = this.size + RECORD_HEADER_BYTES + payload.length > this.opts.segmentBytes;
    if (full && this.size > SEGMENT_HEADER_BYTES) await this.rotate();
    // Every segment opens with the hard state and the snapshot record, so deleting older
    // segments never loses either.
    const withHead = this.size === SEGMENT_HEADER_BYTES ? [...headOps(this.head), ...ops] : ops;
    const record = encodeRecord(this.seed, withHead === ops ? payload : encodeOps(withHead));
    await writeAll(this.fh, [record], this.size);
    if (this.opts.sync) {
      const before = this.opts.beforeSync;
      await timed(before ? async () => {
        await before();
        await this.fh.datasync();
      } : () => this.fh.datasync(), this.opts.onSync);
    }
    this.size += record.length;
    this.catalog.note(withHead);
    for (const op of ops) {
      if (op.kind === 'hardState') this.head = { ...this.head, hardState: op.hardState };
      if (op.kind === 'snapshot') this.head = { ...this.head, snapshot: { index: op.index, term: op.term } };
    }
  }

  private async rotate(): Promise<void> {
    const next = this.seq + 1;
    const { fh, salt } = await createSegment(this.dir, next, this.opts.sync, false);
    await this.fh.close();
    this.fh = fh;
    this.seq = next;
    this.seed = saltSeed(salt);
    this.size = SEGMENT_HEADER_BYTES;
    this.catalog.add(next);
  }

  /** Deletes the segments a durable snapshot at `snapIndex` covers, oldest first. */
  async removeCovered(snapIndex: number): Promise<number[]> {
    const gone = this.catalog.removable(snapIndex);
    for (const seq of gone) {
      await rm(join(this.dir, segmentName(seq)));
      // One at a time, oldest first, each made durable: a crash leaves a suffix, never a gap.
      if (this.opts.sync) await fsyncDir(this.dir);
      this.catalog.dropFirst(seq);
    }
    return gone;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

/**
 * Creates a segment with its header durable before any record goes in. `replace` is only
 * for recovery's case of a last segment whose header never became durable.
 */
async function createSegment(dir: string, seq: number, sync: boolean, replace: boolean): Promise<{ fh: FileHandle; salt: number }> {
  const salt = randomBytes(4).readUInt32LE(0);
  const path = join(dir, segmentName(seq));
  if (replace) await rm(path, { force: true });
  const fh = await open(path, 'wx+', 0o600);
  try {
    await writeAll(fh, [encodeSegmentHeader(salt)], 0);
    if (sync) await fh.datasync();
    if (sync) await fsyncDir(dir);
  } catch (err) {
    await fh.close();
    throw err;
  }
  return { fh, salt };
}
