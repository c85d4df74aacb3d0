// Value formats of the store's records (docs/node-storage.md). Decoders check every field:
// a record that does not decode is corruption, reported as CorruptObjectError.
import { CorruptObjectError } from './errors.js';
import type { ObjectMeta, PartitionState, PartitionStatus } from './types.js';

const OBJECT_FORMAT = 1;
const STATE_FORMAT = 1;
const OBJECT_HEADER = 5; // format byte + uint32 BE length of the JSON part

/** An object record as stored: metadata plus where its bytes are. */
export interface StoredObject {
  readonly meta: ObjectMeta;
  /** Generation of its chunk records; null for inline values and tombstones. */
  readonly generation: number | null;
  readonly chunkSize: number;
  readonly chunks: number;
  /** The value itself when small enough to live in the record. */
  readonly inline: Buffer | null;
}

interface ObjectJson {
  version: number;
  size: number;
  plainSize: number | null;
  contentType: string;
  digest: string;
  createdAt: number;
  deleted: boolean;
  generation: number | null;
  chunkSize: number;
  chunks: number;
}

/** format (1 byte) || JSON length (uint32 BE) || JSON || inline value bytes (if any). */
export function encodeObject(stored: StoredObject): Buffer {
  const { meta } = stored;
  const json: ObjectJson = {
    version: meta.version,
    size: meta.size,
    plainSize: meta.plainSize,
    contentType: meta.contentType,
    digest: meta.digest,
    createdAt: meta.createdAt,
    deleted: meta.deleted,
    generation: stored.generation,
    chunkSize: stored.chunkSize,
    chunks: stored.chunks,
  };
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const head = Buffer.alloc(OBJECT_HEADER);
  head[0] = OBJECT_FORMAT;
  head.writeUInt32BE(text.length, 1);
  const out = Buffer.concat([head, text, stored.inline ?? Buffer.alloc(0)]);
  // Decoding what we just encoded proves the invariants (inline xor chunks, sizes agree).
  decodeObject(meta.key, out);
  return out;
}

export function decodeObject(key: string, value: Buffer): StoredObject {
  const bad = (why: string): CorruptObjectError => new CorruptObjectError('malformed-record', `object record of ${JSON.stringify(key)} is malformed: ${why}`);
  if (value.length < OBJECT_HEADER || value[0] !== OBJECT_FORMAT) throw bad('unknown format');
  const jsonLength = value.readUInt32BE(1);
  if (OBJECT_HEADER + jsonLength > value.length) throw bad('truncated');
  let json: ObjectJson;
  try {
    json = JSON.parse(value.toString('utf8', OBJECT_HEADER, OBJECT_HEADER + jsonLength)) as ObjectJson;
  } catch {
    throw bad('metadata is not JSON');
  }
  const rest = value.subarray(OBJECT_HEADER + jsonLength);
  if (!isCount(json.version) || json.version < 1) throw bad('version');
  if (!isCount(json.size)) throw bad('size');
  if (json.plainSize !== null && !isCount(json.plainSize)) throw bad('plainSize');
  if (typeof json.contentType !== 'string') throw bad('contentType');
  if (typeof json.digest !== 'string' || !/^[0-9a-f]{64}$/.test(json.digest)) throw bad('digest');
  if (!isCount(json.createdAt)) throw bad('createdAt');
  if (typeof json.deleted !== 'boolean') throw bad('deleted');
  if (!isCount(json.chunkSize) || !isCount(json.chunks)) throw bad('chunk layout');
  let inline: Buffer | null = null;
  if (json.generation === null) {
    if (json.chunks !== 0) throw bad('chunks without a generation');
    if (json.deleted) {
      if (json.size !== 0 || rest.length !== 0) throw bad('tombstone with a value');
    } else {
      if (rest.length !== json.size) throw bad(`inline value of ${rest.length} bytes, size says ${json.size}`);
      inline = Buffer.from(rest); // own copy: the record buffer may be large and shared
    }
  } else {
    if (!isCount(json.generation) || json.deleted) throw bad('generation');
    if (rest.length !== 0 || json.chunkSize < 1 || json.size < 1 || json.chunks !== Math.ceil(json.size / json.chunkSize)) {
      throw bad('chunk layout does not match the size');
    }
  }
  return {
    meta: {
      key,
      version: json.version,
      size: json.size,
      plainSize: json.plainSize,
      contentType: json.contentType,
      digest: json.digest,
      createdAt: json.createdAt,
      deleted: json.deleted,
    },
    generation: json.generation,
    chunkSize: json.chunkSize,
    chunks: json.chunks,
    inline,
  };
}

export const EMPTY_STATE: PartitionState = {
  epoch: 0,
  lastSeq: 0,
  logFloor: 0,
  objects: 0,
  bytes: 0,
  tombstones: 0,
  status: 'active',
};

const STATUSES: readonly PartitionStatus[] = ['active', 'importing', 'dropping'];

export function encodeState(state: PartitionState): Buffer {
  assertState(state);
  return Buffer.from(JSON.stringify({ format: STATE_FORMAT, ...state }), 'utf8');
}

export function decodeState(partition: number, value: Buffer): PartitionState {
  let json: PartitionState & { format: number };
  try {
    json = JSON.parse(value.toString('utf8')) as PartitionState & { format: number };
  } catch {
    throw new CorruptObjectError('malformed-record', `state record of partition ${partition} is not JSON`);
  }
  if (json.format !== STATE_FORMAT) throw new CorruptObjectError('malformed-record', `state record of partition ${partition} has unknown format`);
  const { epoch, lastSeq, logFloor, objects, bytes, tombstones, status } = json;
  const state: PartitionState = { epoch, lastSeq, logFloor, objects, bytes, tombstones, status };
  try {
    assertState(state);
  } catch (err) {
    throw new CorruptObjectError('malformed-record', `state record of partition ${partition} is malformed: ${(err as Error).message}`);
  }
  return state;
}

function assertState(s: PartitionState): void {
  for (const field of ['epoch', 'lastSeq', 'logFloor', 'objects', 'bytes', 'tombstones'] as const) {
    if (!isCount(s[field])) throw new Error(`partition state ${field} must be a non-negative integer, got ${String(s[field])}`);
  }
  if (s.logFloor > s.lastSeq) throw new Error(`partition state logFloor ${s.logFloor} above lastSeq ${s.lastSeq}`);
  if (!STATUSES.includes(s.status)) throw new Error(`partition state status ${String(s.status)}`);
}

/** An op-log entry: which key a sequence number wrote. The data is read from the object. */
export interface LogEntry {
  readonly op: 'put' | 'delete';
  readonly key: string;
  readonly createdAt: number;
}

export function encodeLogEntry(entry: LogEntry): Buffer {
  return Buffer.from(JSON.stringify({ op: entry.op, key: entry.key, createdAt: entry.createdAt }), 'utf8');
}

export function decodeLogEntry(seq: number, value: Buffer): LogEntry {
  try {
    const json = JSON.parse(value.toString('utf8')) as LogEntry;
    if ((json.op === 'put' || json.op === 'delete') && typeof json.key === 'string' && isCount(json.createdAt)) return json;
  } catch {
    // fall through
  }
  throw new CorruptObjectError('malformed-record', `op-log entry ${seq} is malformed`);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
