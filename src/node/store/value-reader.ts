// Reads a stored value back, whole or a byte range, from one snapshot. Chunks are checked
// for presence, order and length as they stream: a gap is corruption, never silence.
import { createHash } from 'node:crypto';
import type { AbstractSnapshot } from 'abstract-level';
import { CorruptObjectError } from './errors.js';
import { chunkKey, parseChunkKey } from './layout.js';
import type { StoredObject } from './records.js';
import type { ByteRange, StoreDb } from './types.js';

/** Yields the chunks first..last (inclusive) of a chunked object, in order. */
export async function* readChunks(
  db: StoreDb,
  partition: number,
  stored: StoredObject,
  snapshot: AbstractSnapshot | undefined,
  first = 0,
  last = stored.chunks - 1,
): AsyncGenerator<Buffer> {
  const { meta, generation, chunkSize, chunks } = stored;
  if (generation === null) throw new Error('readChunks on an inline object');
  if (!(first >= 0 && last < chunks && first <= last)) throw new Error(`chunk range ${first}..${last} outside 0..${chunks - 1}`);
  const missing = (index: number): CorruptObjectError =>
    new CorruptObjectError('missing-chunk', `chunk ${index} of ${JSON.stringify(meta.key)} version ${meta.version} is missing`);
  const iterator = db.iterator({
    gte: chunkKey(partition, meta.key, generation, first),
    lte: chunkKey(partition, meta.key, generation, last),
    ...(snapshot ? { snapshot } : {}),
  });
  try {
    let expected = first;
    for await (const [key, value] of iterator) {
      const { index } = parseChunkKey(key);
      if (index !== expected) throw missing(expected);
      const length = index === chunks - 1 ? meta.size - chunkSize * (chunks - 1) : chunkSize;
      if (value.length !== length) {
        throw new CorruptObjectError('size-mismatch', `chunk ${index} of ${JSON.stringify(meta.key)} version ${meta.version} has ${value.length} bytes, expected ${length}`);
      }
      yield value;
      expected++;
    }
    if (expected !== last + 1) throw missing(expected);
  } finally {
    await iterator.close();
  }
}

/** Every byte of the value, or of `range`, in pieces. */
export async function* readValue(
  db: StoreDb,
  partition: number,
  stored: StoredObject,
  snapshot: AbstractSnapshot | undefined,
  range: ByteRange | null,
): AsyncGenerator<Buffer> {
  const { meta } = stored;
  const start = range?.start ?? 0;
  const end = range?.end ?? meta.size - 1; // inclusive
  if (meta.size === 0 || end < start) return;
  if (stored.inline !== null) {
    yield stored.inline.subarray(start, end + 1);
    return;
  }
  const first = Math.floor(start / stored.chunkSize);
  const last = Math.floor(end / stored.chunkSize);
  let offset = first * stored.chunkSize; // of the current chunk's first byte
  for await (const chunk of readChunks(db, partition, stored, snapshot, first, last)) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end + 1 - offset, chunk.length);
    yield from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
    offset += chunk.length;
  }
}

/** Recomputes size and SHA-256 of the stored bytes (scrub, import checks). */
export async function digestStored(db: StoreDb, partition: number, stored: StoredObject, snapshot: AbstractSnapshot | undefined): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of readValue(db, partition, stored, snapshot, null)) {
    hash.update(piece);
    size += piece.length;
  }
  return { digest: hash.digest('hex'), size };
}
