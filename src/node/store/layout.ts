// Byte layout of every LevelDB key the node store writes (docs/node-storage.md).
// Keys are raw bytes compared bytewise; integers are fixed-width big-endian so that
// byte order is numeric order and every field boundary is known without escaping.
//
//   o / P4 / key                    object metadata record (one per key, tombstones too)
//   c / P4 / key 0x00 G8 / I4       chunk I of the value written under generation G
//   p / P4                          partition state
//   l / P4 / S8                     op-log entry for replication sequence S
//
// P4 = partition (uint32 BE), G8 = chunk generation, S8 = sequence (uint64 BE, < 2^53),
// I4 = chunk index (uint32 BE). A key never contains 0x00 (a control character), so 0x00
// ends the key inside a chunk key unambiguously, and all chunks of one key sort together.
import { StoreArgumentError } from './errors.js';

export const TAG_OBJECT = 0x6f; // 'o'
export const TAG_CHUNK = 0x63; // 'c'
export const TAG_PARTITION = 0x70; // 'p'
export const TAG_LOG = 0x6c; // 'l'
const SEP = 0x2f; // '/'
const KEY_END = 0x00;

export const MAX_PARTITION = 0xffffffff;
/** Bytes after the object key in a chunk key: 0x00 G8 '/' I4. */
const CHUNK_TAIL = 1 + 8 + 1 + 4;
/** Bytes before the object key in object and chunk keys: tag '/' P4 '/'. */
const HEAD = 1 + 1 + 4 + 1;

export function assertPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_PARTITION) {
    throw new StoreArgumentError(`partition must be an integer from 0 to ${MAX_PARTITION}, got ${String(partition)}`);
  }
}

export function writeUint64(buf: Buffer, value: number, offset: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a non-negative safe integer: ${value}`);
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

export function readUint64(buf: Buffer, offset: number): number {
  const value = buf.readUInt32BE(offset) * 0x1_0000_0000 + buf.readUInt32BE(offset + 4);
  if (!Number.isSafeInteger(value)) throw new Error('uint64 field beyond 2^53');
  return value;
}

/** tag '/' P4 '/' — the start of a partition's range of one record kind. */
export function partitionPrefix(tag: number, partition: number): Buffer {
  const out = Buffer.alloc(HEAD);
  out[0] = tag;
  out[1] = SEP;
  out.writeUInt32BE(partition, 2);
  out[6] = SEP;
  return out;
}

/** The range of every record of one kind, all partitions. */
export function tagRange(tag: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([tag, SEP]), lt: Buffer.from([tag, SEP + 1]) };
}

/** The smallest key greater than every key starting with `prefix` (null: none exists). */
export function prefixEnd(prefix: Buffer): Buffer | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] ?? 0xff;
    if (byte < 0xff) {
      const out = Buffer.from(prefix.subarray(0, i + 1));
      out[i] = byte + 1;
      return out;
    }
  }
  return null;
}

/** gte/lt bounds of every key starting with `prefix`. */
export function prefixRange(prefix: Buffer): { gte: Buffer; lt: Buffer } {
  const lt = prefixEnd(prefix);
  if (lt === null) throw new Error('prefix of only 0xff bytes has no upper bound');
  return { gte: prefix, lt };
}

export function objectKey(partition: number, key: string): Buffer {
  return Buffer.concat([partitionPrefix(TAG_OBJECT, partition), Buffer.from(key, 'utf8')]);
}

/** Object key from an object record key (the partition is known from the range scanned). */
export function keyOfObjectKey(recordKey: Buffer): string {
  if (recordKey.length <= HEAD || recordKey[0] !== TAG_OBJECT) throw new Error('not an object record key');
  return recordKey.toString('utf8', HEAD);
}

export function partitionOfKey(recordKey: Buffer): number {
  return recordKey.readUInt32BE(2);
}

/** c '/' P4 '/' key 0x00 G8 '/' — the prefix of every chunk of one generation. */
export function chunkGroupPrefix(partition: number, key: string, generation: number): Buffer {
  return chunkGroupPrefixBytes(partition, Buffer.from(key, 'utf8'), generation);
}

function chunkGroupPrefixBytes(partition: number, keyBytes: Buffer, generation: number): Buffer {
  const out = Buffer.alloc(HEAD + keyBytes.length + CHUNK_TAIL - 4);
  partitionPrefix(TAG_CHUNK, partition).copy(out, 0);
  keyBytes.copy(out, HEAD);
  out[HEAD + keyBytes.length] = KEY_END;
  writeUint64(out, generation, HEAD + keyBytes.length + 1);
  out[out.length - 1] = SEP;
  return out;
}

export function chunkKey(partition: number, key: string, generation: number, index: number): Buffer {
  const index4 = Buffer.alloc(4);
  index4.writeUInt32BE(index, 0);
  return Buffer.concat([chunkGroupPrefix(partition, key, generation), index4]);
}

export interface ChunkAddress {
  readonly partition: number;
  /** The object key's UTF-8 bytes (kept raw: the sweep compares, it does not need text). */
  readonly keyBytes: Buffer;
  readonly generation: number;
  readonly index: number;
}

export function parseChunkKey(recordKey: Buffer): ChunkAddress {
  const keyEnd = recordKey.length - CHUNK_TAIL;
  if (recordKey.length < HEAD + 1 + CHUNK_TAIL || recordKey[0] !== TAG_CHUNK || recordKey[keyEnd] !== KEY_END || recordKey[keyEnd + 9] !== SEP) {
    throw new Error('malformed chunk record key');
  }
  return {
    partition: recordKey.readUInt32BE(2),
    keyBytes: recordKey.subarray(HEAD, keyEnd),
    generation: readUint64(recordKey, keyEnd + 1),
    index: recordKey.readUInt32BE(keyEnd + 10),
  };
}

/** The prefix a chunk group key shares with its chunks (for clearing a parsed group). */
export function chunkGroupPrefixOf(address: ChunkAddress): Buffer {
  return chunkGroupPrefixBytes(address.partition, address.keyBytes, address.generation);
}

export function stateKey(partition: number): Buffer {
  const out = Buffer.alloc(6);
  out[0] = TAG_PARTITION;
  out[1] = SEP;
  out.writeUInt32BE(partition, 2);
  return out;
}

export function logKey(partition: number, seq: number): Buffer {
  const out = Buffer.alloc(HEAD + 8);
  partitionPrefix(TAG_LOG, partition).copy(out, 0);
  writeUint64(out, seq, HEAD);
  return out;
}

export function seqOfLogKey(recordKey: Buffer): number {
  if (recordKey.length !== HEAD + 8 || recordKey[0] !== TAG_LOG) throw new Error('malformed op-log record key');
  return readUint64(recordKey, HEAD);
}
