// Typed errors of the node store. Each has a stable `code` the data plane maps to a
// status (precondition → 412, range → 416, busy/retryable → 503, corruption → 500).
// Messages name keys and versions, never object bytes.
import type { CorruptionReason } from './types.js';

export type StoreErrorCode =
  | 'bad-argument'
  | 'precondition-failed'
  | 'digest-mismatch'
  | 'size-mismatch'
  | 'stale-epoch'
  | 'sequence'
  | 'range-not-satisfiable'
  | 'partition-busy'
  | 'partition-not-empty'
  | 'corrupt'
  | 'import-invalid'
  | 'closed';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** True when the same request may succeed if retried later (the state changed under it). */
  readonly retryable: boolean;

  constructor(code: StoreErrorCode, message: string, retryable = false) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
    this.retryable = retryable;
  }
}

/** Bad input from the caller: partition out of range, bad options, bad range shape. */
export class StoreArgumentError extends StoreError {
  constructor(message: string) {
    super('bad-argument', message);
    this.name = 'StoreArgumentError';
  }
}

/** If-Match / If-None-Match did not hold at commit time. */
export class PreconditionFailedError extends StoreError {
  /** The version that was current (null: absent or deleted). */
  readonly currentVersion: number | null;

  constructor(key: string, expected: number | 'absent', currentVersion: number | null) {
    const want = expected === 'absent' ? 'no current object' : `version ${expected}`;
    const have = currentVersion === null ? 'none' : `version ${currentVersion}`;
    super('precondition-failed', `precondition failed for ${JSON.stringify(key)}: expected ${want}, found ${have}`);
    this.name = 'PreconditionFailedError';
    this.currentVersion = currentVersion;
  }
}

/** The bytes received do not hash to the digest the sender announced. */
export class DigestMismatchError extends StoreError {
  constructor(key: string, expected: string, actual: string) {
    super('digest-mismatch', `digest mismatch for ${JSON.stringify(key)}: expected ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

export class SizeMismatchError extends StoreError {
  constructor(key: string, expected: number, actual: number) {
    super('size-mismatch', `size mismatch for ${JSON.stringify(key)}: expected ${expected} bytes, got ${actual}`);
    this.name = 'SizeMismatchError';
  }
}

/** A write carried an epoch other than the partition's (fencing of an old primary). */
export class StaleEpochError extends StoreError {
  constructor(partition: number, given: number, current: number) {
    super('stale-epoch', `partition ${partition} is at epoch ${current}; the write carried epoch ${given}`);
    this.name = 'StaleEpochError';
  }
}

/** A replication sequence that does not move forward. */
export class SequenceError extends StoreError {
  constructor(message: string) {
    super('sequence', message);
    this.name = 'SequenceError';
  }
}

export class RangeNotSatisfiableError extends StoreError {
  readonly size: number;

  constructor(start: number, end: number, size: number) {
    super('range-not-satisfiable', `range ${start}-${end} is outside an object of ${size} bytes`);
    this.name = 'RangeNotSatisfiableError';
    this.size = size;
  }
}

/** The partition is being imported or dropped; writes are refused until that ends. */
export class PartitionBusyError extends StoreError {
  constructor(partition: number, status: string) {
    super('partition-busy', `partition ${partition} is ${status}; try again later`, true);
    this.name = 'PartitionBusyError';
  }
}

/** Stored bytes that are not what was written: a missing chunk, a bad record, a bad digest. */
export class CorruptObjectError extends StoreError {
  readonly reason: CorruptionReason;

  constructor(reason: CorruptionReason, message: string) {
    super('corrupt', message);
    this.name = 'CorruptObjectError';
    this.reason = reason;
  }
}

/** An import into a partition that already holds data (drop it first). */
export class PartitionNotEmptyError extends StoreError {
  constructor(partition: number) {
    super('partition-not-empty', `partition ${partition} already holds data; drop it before importing a copy`);
    this.name = 'PartitionNotEmptyError';
  }
}

/** The store was closed. */
export class StoreClosedError extends StoreError {
  constructor() {
    super('closed', 'the node store is closed');
    this.name = 'StoreClosedError';
  }
}

/** A partition copy that breaks the export format (out of order, wrong counts). */
export class ImportError extends StoreError {
  constructor(message: string) {
    super('import-invalid', message);
    this.name = 'ImportError';
  }
}
