// Checks of the store's settings and of each write's options: bad input is a
// StoreArgumentError naming the field, before anything is written.
import { StoreArgumentError } from './errors.js';
import type { PutMeta, StoreOptions, WriteOptions } from './types.js';

export interface Settings {
  readonly sync: boolean;
  readonly inlineLimit: number;
  readonly chunkSize: number;
  readonly batchBytes: number;
  readonly opLogRetention: number;
  readonly tombstoneRetentionMs: number;
  readonly now: () => number;
}

export const DEFAULT_TOMBSTONE_RETENTION_MS = 24 * 3600 * 1000;

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_CHUNK = 64 * MiB;
const MAX_CONTENT_TYPE = 256;

export function resolveSettings(options: StoreOptions): Settings {
  const settings: Settings = {
    sync: options.sync ?? true,
    inlineLimit: options.inlineLimit ?? 64 * KiB,
    chunkSize: options.chunkSize ?? 256 * KiB,
    batchBytes: options.batchBytes ?? 1 * MiB,
    opLogRetention: options.opLogRetention ?? 100_000,
    tombstoneRetentionMs: options.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS,
    now: options.now ?? Date.now,
  };
  if (typeof settings.sync !== 'boolean') throw new StoreArgumentError('sync must be a boolean');
  if (!isCount(settings.chunkSize) || settings.chunkSize < 1 || settings.chunkSize > MAX_CHUNK) {
    throw new StoreArgumentError(`chunkSize must be an integer from 1 to ${MAX_CHUNK}`);
  }
  if (!isCount(settings.inlineLimit) || settings.inlineLimit > settings.chunkSize) {
    throw new StoreArgumentError('inlineLimit must be an integer from 0 to chunkSize');
  }
  if (!isCount(settings.batchBytes) || settings.batchBytes < 1) throw new StoreArgumentError('batchBytes must be a positive integer');
  if (!isCount(settings.opLogRetention) || settings.opLogRetention < 1) throw new StoreArgumentError('opLogRetention must be a positive integer');
  if (!isCount(settings.tombstoneRetentionMs)) throw new StoreArgumentError('tombstoneRetentionMs must be a non-negative integer of ms');
  return settings;
}

export function checkPutMeta(meta: PutMeta): void {
  if (typeof meta !== 'object' || meta === null) throw new StoreArgumentError('put metadata must be an object');
  if (typeof meta.contentType !== 'string' || meta.contentType.length > MAX_CONTENT_TYPE || /[\u0000-\u001f\u007f]/.test(meta.contentType)) {
    throw new StoreArgumentError(`contentType must be a string of at most ${MAX_CONTENT_TYPE} printable characters`);
  }
  if (meta.plainSize !== undefined && meta.plainSize !== null && !isCount(meta.plainSize)) throw new StoreArgumentError('plainSize must be a non-negative integer');
  if (meta.digest !== undefined && (typeof meta.digest !== 'string' || !/^[0-9a-f]{64}$/.test(meta.digest))) {
    throw new StoreArgumentError('digest must be 64 lowercase hex characters (SHA-256)');
  }
  if (meta.size !== undefined && !isCount(meta.size)) throw new StoreArgumentError('size must be a non-negative integer');
  if (meta.createdAt !== undefined && !isCount(meta.createdAt)) throw new StoreArgumentError('createdAt must be a non-negative integer (ms)');
}

export function checkWriteOptions(options: WriteOptions): void {
  if (typeof options !== 'object' || options === null) throw new StoreArgumentError('write options must be an object');
  if (options.seq !== undefined && (!isCount(options.seq) || options.seq < 1)) throw new StoreArgumentError('seq must be a positive integer');
  const expect = options.expectVersion;
  if (expect !== undefined && expect !== 'absent' && (!isCount(expect) || expect < 1)) {
    throw new StoreArgumentError("expectVersion must be a positive integer or 'absent'");
  }
  if (options.epoch !== undefined && !isCount(options.epoch)) throw new StoreArgumentError('epoch must be a non-negative integer');
  if (options.sync !== undefined && typeof options.sync !== 'boolean') throw new StoreArgumentError('sync must be a boolean');
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
