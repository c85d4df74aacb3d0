// Recovery at open: read the snapshot file, replay every segment in order, and decide
// what a damaged end of the log is.
//
// Only the tail of the LAST segment can be torn: a record is written only after the
// previous one was fsynced, and a new segment only after the old one's last record was.
// So damage followed by any valid record, or damage in an earlier segment, is corruption
// of synced data and fails loudly; damage with nothing valid after it is the unsynced
// batch a crash interrupted (never acknowledged), and is cut off with a warning.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry, HardState, Snapshot } from '../types.js';
import { DecodeError, RaftStorageCorruptError } from './errors.js';
import { decodeOps, type WalOp } from './ops.js';
import { decodeSegmentHeader, findValidRecord, laterDataFollows, readRecord, saltSeed, SEGMENT_HEADER_BYTES } from './record.js';
import { Replayer, type ReplayResult } from './replay.js';
import { listSegments, SegmentCatalog, segmentName } from './segments.js';
import { readSnapshotFile } from './snapshot-file.js';
import type { ActiveSegment } from './wal-writer.js';

export type Warn = (message: string, details: Record<string, string | number>) => void;

export interface Recovered extends Omit<ReplayResult, 'hardState' | 'entries'> {
  readonly snapshot: Snapshot | null;
  readonly hardState: HardState;
  readonly entries: Entry[];
  readonly catalog: SegmentCatalog;
  /** Where appending resumes; `salt: null` means the segment must be (re)created. */
  readonly active: ActiveSegment | { seq: number; salt: null };
}

export async function recover(dir: string, warn: Warn): Promise<Recovered> {
  const snapshot = await readSnapshotFile(dir);
  const replayer = new Replayer(snapshot);
  const catalog = new SegmentCatalog();
  const seqs = await listSegments(dir);
  let active: Recovered['active'] = { seq: seqs.at(-1) ?? 1, salt: null };

  for (const [i, seq] of seqs.entries()) {
    const file = segmentName(seq);
    const isLast = i === seqs.length - 1;
    const buf = await readFile(join(dir, file));
    catalog.add(seq);
    const header = decodeSegmentHeader(buf);
    if (!header.ok) {
      // The header is made durable before any record is written: a bad header on a file
      // longer than it means damage, not an interrupted creation.
      if (!isLast || buf.length > SEGMENT_HEADER_BYTES) {
        throw new RaftStorageCorruptError(`segment header: ${header.reason}`, { file, offset: 0 });
      }
      warn('raft storage: recreating a segment whose creation was interrupted', { file, bytes: buf.length });
      active = { seq, salt: null };
      break;
    }
    const seed = saltSeed(header.salt);
    let offset = SEGMENT_HEADER_BYTES;
    while (offset < buf.length) {
      const rec = readRecord(buf, offset, seed);
      if (!rec.ok) {
        if (!isLast) throw new RaftStorageCorruptError(`bad record (${rec.reason}) in a segment that is not the last`, { file, offset });
        const next = findValidRecord(buf, offset + 1, seed);
        if (next >= 0) throw new RaftStorageCorruptError(`bad record (${rec.reason}), yet a valid record follows at byte ${next}`, { file, offset });
        if (laterDataFollows(buf, offset)) throw new RaftStorageCorruptError(`bad record (${rec.reason}) with data written after it`, { file, offset });
        warn('raft storage: cutting a torn tail off the log', { file, offset, droppedBytes: buf.length - offset, reason: rec.reason });
        break;
      }
      let ops: WalOp[];
      try {
        ops = decodeOps(rec.payload);
        for (const op of ops) replayer.apply(op);
      } catch (err) {
        const why = err instanceof DecodeError ? `undecodable record: ${err.message}` : (err as Error).message;
        throw new RaftStorageCorruptError(why, { file, offset });
      }
      catalog.note(ops);
      offset = rec.end;
    }
    active = { seq, salt: header.salt, size: offset };
  }

  const result = replayer.finish();
  return { ...result, snapshot, catalog, active };
}
