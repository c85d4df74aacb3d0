// Public shapes of the node store API.
import type { AbstractLevel } from 'abstract-level';

/** A database opened with keyEncoding and valueEncoding 'buffer' (classic-level, memory-level). */
export type StoreDb = AbstractLevel<string | Buffer | Uint8Array, Buffer, Buffer>;

/** What the store knows about one object (the value bytes are ciphertext, header included). */
export interface ObjectMeta {
  readonly key: string;
  /** The replication sequence of the write that made this version; it is the ETag. */
  readonly version: number;
  /** Stored bytes: the whole envelope, its 138-byte encryption header first. */
  readonly size: number;
  /** Plaintext length when the writer said so. */
  readonly plainSize: number | null;
  readonly contentType: string;
  /** SHA-256 (hex) of the stored bytes. */
  readonly digest: string;
  /** Milliseconds since the epoch, set by the primary and kept by replicas. */
  readonly createdAt: number;
  /** A tombstone: the key was deleted by this version. */
  readonly deleted: boolean;
}

export type PartitionStatus = 'active' | 'importing' | 'dropping';

export interface PartitionState {
  readonly epoch: number;
  /** The highest replication sequence applied. */
  readonly lastSeq: number;
  /** Every op with a sequence above this one is in the op log (up to lastSeq). */
  readonly logFloor: number;
  /** Live objects and their stored bytes (tombstones are counted apart). */
  readonly objects: number;
  readonly bytes: number;
  readonly tombstones: number;
  readonly status: PartitionStatus;
}

export interface PartitionStats extends PartitionState {
  readonly partition: number;
}

export interface StoreOptions {
  /** fsync every commit and chunk batch (default true). Off only for throwaway stores. */
  readonly sync?: boolean;
  /** Values up to this many bytes live inside the metadata record (default 64 KiB). */
  readonly inlineLimit?: number;
  /** Larger values are cut into chunk records of this size (default 256 KiB). */
  readonly chunkSize?: number;
  /** Chunks are written in batches of about this many bytes (default 1 MiB). */
  readonly batchBytes?: number;
  /** The op log keeps the ops of the last this-many sequence numbers (default 100,000). */
  readonly opLogRetention?: number;
  /**
   * Tombstones younger than this (by their createdAt) are never purged (default 24 h):
   * see purgeExpiredTombstones and docs/data-plane.md, "Tombstone retention".
   */
  readonly tombstoneRetentionMs?: number;
  /** Wall clock for createdAt and tombstone ages (tests inject one). */
  readonly now?: () => number;
}

/** Describes the value handed to putStream. */
export interface PutMeta {
  readonly contentType: string;
  readonly plainSize?: number | null;
  /** Expected SHA-256 (hex) of the stored bytes: a mismatch aborts the write. */
  readonly digest?: string;
  /** Expected length in bytes: a mismatch aborts the write. */
  readonly size?: number;
  /** Kept as given (replicas keep the primary's); default now. */
  readonly createdAt?: number;
}

export interface WriteOptions {
  /**
   * The replication sequence of this write; it becomes the version. Omitted: the store
   * takes lastSeq + 1 at commit (the primary's case). Given: it must exceed lastSeq.
   */
  readonly seq?: number;
  /** A version (If-Match) or 'absent' (If-None-Match: *), checked atomically with the commit. */
  readonly expectVersion?: number | 'absent';
  /** When given, the partition must be at exactly this epoch (fencing). */
  readonly epoch?: number;
  /**
   * false: written without its own fsync; the caller makes it durable, with everything
   * before it, by a later synced write (`syncPartition`) before acknowledging it.
   * Default: synced when the store syncs.
   */
  readonly sync?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  readonly createdAt?: number;
}

export interface DeleteResult {
  readonly version: number;
  /** Whether a live object was there before. */
  readonly existed: boolean;
}

/** Bytes start..end, both inclusive, as in an HTTP Range header. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ReadOptions {
  readonly range?: ByteRange;
}

export interface ObjectRead {
  readonly meta: ObjectMeta;
  readonly range: ByteRange | null;
  /** Bytes `body` will yield. */
  readonly length: number;
  /**
   * The bytes, from the snapshot the metadata was read in; iterate once. A full read
   * checks the digest at the end and throws CorruptObjectError on a mismatch.
   */
  readonly body: AsyncIterable<Buffer>;
  /** Releases the snapshot if the body is not read to its end (idempotent). */
  close(): Promise<void>;
}

export interface ListOptions {
  readonly prefix?: string;
  /** Start after this key (the cursor of the previous page). */
  readonly after?: string;
  /** 1..10,000, default 1,000. */
  readonly limit?: number;
  readonly includeTombstones?: boolean;
}

export interface ListPage {
  readonly items: ObjectMeta[];
  /** The `after` of the next page, null at the end. */
  readonly next: string | null;
}

/** One record of a partition copy, in this order: partition, (object, chunk*)*, end. */
export type ExportRecord =
  | { readonly kind: 'partition'; readonly partition: number; readonly epoch: number; readonly lastSeq: number }
  | { readonly kind: 'object'; readonly meta: ObjectMeta; readonly inline: Buffer | null }
  | { readonly kind: 'chunk'; readonly key: string; readonly index: number; readonly bytes: Buffer }
  | { readonly kind: 'end'; readonly objects: number };

/** One write of the op log, as opsSince hands it out. */
export type OpEntry =
  | { readonly kind: 'put'; readonly seq: number; readonly key: string; readonly meta: ObjectMeta; readonly inline: Buffer | null }
  /** A put whose version is no longer stored: a later op in the log replaces it. */
  | { readonly kind: 'superseded'; readonly seq: number; readonly key: string }
  | { readonly kind: 'delete'; readonly seq: number; readonly key: string; readonly createdAt: number };

export type OpsResult =
  | { readonly kind: 'ops'; readonly ops: OpEntry[]; readonly lastSeq: number; readonly more: boolean }
  /** The caller cannot catch up from the log: it must copy the whole partition. */
  | { readonly kind: 'full-copy-needed'; readonly reason: 'behind-retention' | 'ahead-of-source'; readonly logFloor: number; readonly lastSeq: number };

export type CorruptionReason = 'digest-mismatch' | 'size-mismatch' | 'missing-chunk' | 'malformed-record';

export interface CorruptObject {
  readonly partition: number;
  readonly key: string;
  readonly version: number | null;
  /** The digest in the metadata (null when the record itself is unreadable). */
  readonly expected: string | null;
  /** The digest of the bytes found (null when they could not all be read). */
  readonly actual: string | null;
  readonly reason: CorruptionReason;
}

/** What NodeStore.open cleaned up. */
export interface RecoveryReport {
  readonly orphanChunkGroups: number;
  readonly orphanChunks: number;
  readonly partitionsDropped: number[];
}
