// Scrubbing: re-read every stored value from one snapshot, recompute its size and SHA-256,
// and report what does not match its metadata. Nothing is repaired here: the data plane
// re-copies a corrupt object from a healthy replica.
import { CorruptObjectError } from './errors.js';
import { keyOfObjectKey, partitionOfKey, partitionPrefix, prefixRange, tagRange, TAG_OBJECT } from './layout.js';
import { decodeObject, type StoredObject } from './records.js';
import type { CorruptObject, StoreDb } from './types.js';
import { digestStored } from './value-reader.js';

export interface ScrubResult {
  readonly checked: number;
  readonly corrupt: CorruptObject[];
}

export async function scrub(db: StoreDb, partition?: number): Promise<ScrubResult> {
  const range = partition === undefined ? tagRange(TAG_OBJECT) : prefixRange(partitionPrefix(TAG_OBJECT, partition));
  const corrupt: CorruptObject[] = [];
  let checked = 0;
  const snapshot = db.snapshot();
  try {
    for await (const [k, v] of db.iterator({ ...range, snapshot })) {
      const p = partitionOfKey(k);
      const key = keyOfObjectKey(k);
      let stored: StoredObject;
      try {
        stored = decodeObject(key, v);
      } catch (err) {
        if (!(err instanceof CorruptObjectError)) throw err;
        corrupt.push({ partition: p, key, version: null, expected: null, actual: null, reason: 'malformed-record' });
        continue;
      }
      if (stored.meta.deleted) continue;
      checked++;
      const { version, digest: expected, size } = stored.meta;
      try {
        const actual = await digestStored(db, p, stored, snapshot);
        if (actual.size !== size) corrupt.push({ partition: p, key, version, expected, actual: actual.digest, reason: 'size-mismatch' });
        else if (actual.digest !== expected) corrupt.push({ partition: p, key, version, expected, actual: actual.digest, reason: 'digest-mismatch' });
      } catch (err) {
        if (!(err instanceof CorruptObjectError)) throw err;
        corrupt.push({ partition: p, key, version, expected, actual: null, reason: err.reason });
      }
    }
  } finally {
    await snapshot.close();
  }
  return { checked, corrupt };
}
