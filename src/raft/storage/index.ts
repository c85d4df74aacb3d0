// Durable storage for the Raft core. See docs/raft-storage.md for the on-disk format.

export { RaftStorage, DEFAULT_SEGMENT_BYTES } from './raft-storage.js';
export type { RaftStorageOptions, StoredState, SaveBatch } from './raft-storage.js';
export { RaftStorageCorruptError, RaftStorageInvariantError, RaftStorageUnavailableError } from './errors.js';
