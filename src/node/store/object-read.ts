// The read path. Metadata and chunks come from ONE explicit LevelDB snapshot, taken before
// the metadata is read and held until the body is consumed or closed. A concurrent
// overwrite deletes the old chunks in its commit batch, but a snapshot still sees them,
// so a reader mid-stream finishes the version it started, never a mix of two.
import { createHash } from 'node:crypto';
import type { AbstractSnapshot } from 'abstract-level';
import { readStored } from './commit.js';
import { CorruptObjectError, RangeNotSatisfiableError, StoreArgumentError } from './errors.js';
import type { StoredObject } from './records.js';
import type { ByteRange, ObjectRead, ReadOptions, StoreDb } from './types.js';
import { readValue } from './value-reader.js';

export async function openRead(db: StoreDb, partition: number, key: string, options: ReadOptions): Promise<ObjectRead | null> {
  const snapshot = db.snapshot();
  let handedOver = false;
  try {
    const stored = await readStored(db, partition, key, snapshot);
    if (stored === null || stored.meta.deleted) return null;
    const range = options.range === undefined ? null : resolveRange(options.range, stored.meta.size);
    const length = range === null ? stored.meta.size : range.end - range.start + 1;
    if (stored.inline !== null) {
      // The value came with the record: nothing more to read from the snapshot.
      if (range === null && createHash('sha256').update(stored.inline).digest('hex') !== stored.meta.digest) throw digestError(stored);
      const bytes = range === null ? stored.inline : stored.inline.subarray(range.start, range.end + 1);
      return { meta: stored.meta, range, length, body: once(bytes), close: async () => {} };
    }
    handedOver = true;
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> => (closing ??= snapshot.close());
    return { meta: stored.meta, range, length, body: streamBody(db, partition, stored, snapshot, range, close), close };
  } finally {
    if (!handedOver) await snapshot.close();
  }
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  if (bytes.length > 0) yield bytes;
}

async function* streamBody(
  db: StoreDb,
  partition: number,
  stored: StoredObject,
  snapshot: AbstractSnapshot,
  range: ByteRange | null,
  close: () => Promise<void>,
): AsyncGenerator<Buffer> {
  try {
    // A whole read is cheap to verify (SHA-256 runs at about 1.7 GB/s), and a consumer
    // must learn of rot rather than pass it on; a range read cannot be checked here.
    const hash = range === null ? createHash('sha256') : null;
    for await (const piece of readValue(db, partition, stored, snapshot, range)) {
      hash?.update(piece);
      yield piece;
    }
    if (hash !== null) {
      const actual = hash.digest('hex');
      if (actual !== stored.meta.digest) throw digestError(stored);
    }
  } finally {
    await close();
  }
}

function digestError(stored: StoredObject): CorruptObjectError {
  return new CorruptObjectError('digest-mismatch', `${JSON.stringify(stored.meta.key)} version ${stored.meta.version} does not match its digest`);
}

/** Checks a range against the object size; an end past the object is clamped (as HTTP does). */
export function resolveRange(range: ByteRange, size: number): ByteRange {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new StoreArgumentError(`range must be integers with 0 <= start <= end, got ${String(start)}-${String(end)}`);
  }
  if (start >= size) throw new RangeNotSatisfiableError(start, end, size);
  return { start, end: Math.min(end, size - 1) };
}
