// Segment files: naming, listing, and which of them a snapshot has made removable.
//
// A segment is `<seq>.wal` with seq a 16-digit zero-padded decimal, starting at 1 and
// consecutive: only a prefix is ever deleted, so a gap means a lost file.

import { readdir } from 'node:fs/promises';
import type { WalOp } from './ops.js';
import { RaftStorageCorruptError } from './errors.js';

const NAME = /^(\d{16})\.wal$/;

export function segmentName(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`bad segment sequence ${seq}`);
  return `${String(seq).padStart(16, '0')}.wal`;
}

/** Sequence numbers of the segments in `dir`, ascending; throws on a gap. */
export async function listSegments(dir: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await readdir(dir)) {
    const m = NAME.exec(name);
    if (m) seqs.push(Number(m[1]));
  }
  seqs.sort((a, b) => a - b);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1]! + 1) {
      throw new RaftStorageCorruptError(`segment ${segmentName(seqs[i - 1]! + 1)} is missing between ${segmentName(seqs[i - 1]!)} and ${segmentName(seqs[i]!)}`);
    }
  }
  return seqs;
}

interface SegmentReach {
  readonly seq: number;
  /** Highest log index this segment still contributes to replay; 0 once a later reset made it moot. */
  maxIndex: number;
}

/**
 * Tracks, per segment, the highest log index it holds, to decide which segments a
 * snapshot covers. A segment is removable when it and every segment before it hold only
 * indexes <= the snapshot index (or precede a log reset) and it is not the active one.
 * The hard state and the snapshot record need no tracking: every segment starts with a
 * copy of both.
 */
export class SegmentCatalog {
  private readonly segs: SegmentReach[] = [];

  get seqs(): number[] {
    return this.segs.map((s) => s.seq);
  }

  get lastSeq(): number | null {
    return this.segs.at(-1)?.seq ?? null;
  }

  add(seq: number): void {
    const last = this.lastSeq;
    if (last !== null && seq !== last + 1) throw new Error(`segment ${seq} does not follow ${last}`);
    this.segs.push({ seq, maxIndex: 0 });
  }

  /** Accounts for ops written to (or replayed from) the last segment. */
  note(ops: readonly WalOp[]): void {
    const cur = this.segs.at(-1);
    if (cur === undefined) throw new Error('no segment to note ops in');
    for (const op of ops) {
      if (op.kind === 'entry') cur.maxIndex = Math.max(cur.maxIndex, op.entry.index);
      else if (op.kind === 'truncate') cur.maxIndex = Math.max(cur.maxIndex, op.from);
      else if (op.kind === 'snapshot' && op.reset) {
        for (const s of this.segs) if (s !== cur) s.maxIndex = 0;
      }
    }
  }

  /** Segments that a snapshot at `snapIndex` makes removable: a prefix, never the last one. */
  removable(snapIndex: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.segs.length - 1; i++) {
      if (this.segs[i]!.maxIndex > snapIndex) break;
      out.push(this.segs[i]!.seq);
    }
    return out;
  }

  /** Forgets the first segment (after its file is deleted). */
  dropFirst(seq: number): void {
    if (this.segs[0]?.seq !== seq) throw new Error(`segment ${seq} is not the first one`);
    this.segs.shift();
  }
}
