// Errors of the Raft storage. Corruption and invariant violations are distinct classes
// so callers (and tests) can tell "the disk lies" from "the caller broke a rule".

export interface CorruptionSite {
  /** File name inside the storage directory. */
  readonly file?: string;
  /** Byte offset of the bad data inside that file. */
  readonly offset?: number;
}

/** Durable data is damaged in a way that recovery must not paper over. */
export class RaftStorageCorruptError extends Error {
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(message: string, site: CorruptionSite = {}) {
    const where = site.file === undefined ? '' : ` (${site.file}${site.offset === undefined ? '' : ` @ byte ${site.offset}`})`;
    super(`raft storage corrupt: ${message}${where}`);
    this.name = 'RaftStorageCorruptError';
    this.file = site.file;
    this.offset = site.offset;
  }
}

/** A caller asked for something that would break the log's invariants; nothing was written. */
export class RaftStorageInvariantError extends Error {
  constructor(message: string) {
    super(`raft storage invariant: ${message}`);
    this.name = 'RaftStorageInvariantError';
  }
}

/** The storage is closed, or an earlier write/fsync failed and its on-disk state is unknown. */
export class RaftStorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`raft storage unavailable: ${message}`, options);
    this.name = 'RaftStorageUnavailableError';
  }
}

/** Thrown by decoders on malformed bytes; recovery turns it into a RaftStorageCorruptError. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}
