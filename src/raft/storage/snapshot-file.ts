// The snapshot file: the one snapshot the log is compacted against, replaced atomically.
//
// layout: magic "SOSN" | version u16 | reserved u16 (0) | metaLength u32 | dataLength u64
//         | meta (UTF-8 JSON: {index, term, config: {voters, learners}}) | data
//         | crc32c of every preceding byte, u32
// Written as `snapshot.tmp`, fsynced, renamed to `snapshot`, then the directory fsynced;
// a `snapshot.tmp` found at open is the remnant of an interrupted write and is deleted.

import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot, SnapshotMeta } from '../types.js';
import { ByteReader, ByteWriter } from './binary.js';
import { crc32c } from './crc32c.js';
import { DecodeError, RaftStorageCorruptError } from './errors.js';
import { fsyncDir, writeAll } from './fsutil.js';

export const SNAPSHOT_FILE = 'snapshot';
export const SNAPSHOT_TEMP_FILE = 'snapshot.tmp';
const MAGIC = Buffer.from('SOSN', 'latin1');
const VERSION = 1;
const HEADER_BYTES = 20;

function isMemberList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((m) => typeof m === 'string' && m.length > 0);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Throws a descriptive message if `meta` is not a well-formed SnapshotMeta. */
export function checkSnapshotMeta(meta: unknown): asserts meta is SnapshotMeta {
  if (typeof meta !== 'object' || meta === null) throw new TypeError('snapshot meta is not an object');
  const m = meta as Record<string, unknown>;
  // Index 0 / term 0 is the bootstrap snapshot: the initial configuration and state.
  if (!isIndex(m.index)) throw new TypeError(`snapshot index must be an integer >= 0, got ${String(m.index)}`);
  if (!isIndex(m.term) || (m.term < 1 && m.index > 0)) throw new TypeError(`snapshot term must be an integer >= 1 (0 only at index 0), got ${String(m.term)}`);
  const c = m.config as Record<string, unknown> | null | undefined;
  if (typeof c !== 'object' || c === null || !isMemberList(c.voters) || !isMemberList(c.learners)) {
    throw new TypeError('snapshot config must be {voters: string[], learners: string[]}');
  }
}

export function encodeSnapshotHeader(meta: SnapshotMeta, dataLength: number): Buffer {
  const json = Buffer.from(JSON.stringify({
    index: meta.index,
    term: meta.term,
    config: { voters: [...meta.config.voters], learners: [...meta.config.learners] },
  }), 'utf8');
  const w = new ByteWriter(Buffer.alloc(HEADER_BYTES + json.length));
  w.bytes(MAGIC);
  w.u16(VERSION);
  w.u16(0);
  w.u32(json.length);
  w.u64(dataLength);
  w.bytes(json);
  return w.buf;
}

export function encodeSnapshotFile(snapshot: Snapshot): Buffer {
  const head = encodeSnapshotHeader(snapshot.meta, snapshot.data.length);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(crc32c(snapshot.data, crc32c(head)), 0);
  return Buffer.concat([head, snapshot.data, trailer]);
}

export function decodeSnapshotFile(buf: Buffer): Snapshot {
  try {
    if (buf.length < HEADER_BYTES + 4) throw new DecodeError(`file is ${buf.length} bytes, too short for a snapshot`);
    const stored = buf.readUInt32LE(buf.length - 4);
    if (crc32c(buf.subarray(0, buf.length - 4)) !== stored) throw new DecodeError('checksum mismatch');
    const r = new ByteReader(buf, 0, buf.length - 4);
    if (!r.view(4, 'magic').equals(MAGIC)) throw new DecodeError('bad magic');
    const version = r.u16('version');
    if (version !== VERSION) throw new DecodeError(`unsupported snapshot version ${version}`);
    r.u16('reserved');
    const metaLength = r.u32('meta length');
    const dataLength = r.u64('data length');
    if (metaLength + dataLength !== r.remaining) {
      throw new DecodeError(`lengths (${metaLength} + ${dataLength}) do not match the file (${r.remaining} bytes)`);
    }
    let meta: unknown;
    try {
      meta = JSON.parse(r.view(metaLength, 'meta').toString('utf8'));
    } catch (err) {
      throw new DecodeError(`meta is not JSON: ${(err as Error).message}`);
    }
    try {
      checkSnapshotMeta(meta);
    } catch (err) {
      throw new DecodeError((err as Error).message);
    }
    return { meta, data: r.bytes(dataLength, 'data') };
  } catch (err) {
    if (err instanceof DecodeError) throw new RaftStorageCorruptError(`snapshot file: ${err.message}`, { file: SNAPSHOT_FILE });
    throw err;
  }
}

/** Reads the snapshot file; null if there is none. Deletes an interrupted temp file. */
export async function readSnapshotFile(dir: string): Promise<Snapshot | null> {
  await rm(join(dir, SNAPSHOT_TEMP_FILE), { force: true });
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, SNAPSHOT_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return decodeSnapshotFile(buf);
}

/** Replaces the snapshot file atomically: temp file, fsync, rename, fsync of the directory. */
export async function writeSnapshotFile(dir: string, snapshot: Snapshot, sync: boolean): Promise<void> {
  const temp = join(dir, SNAPSHOT_TEMP_FILE);
  const fh = await open(temp, 'w', 0o600);
  try {
    const head = encodeSnapshotHeader(snapshot.meta, snapshot.data.length);
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32LE(crc32c(snapshot.data, crc32c(head)), 0);
    await writeAll(fh, [head, snapshot.data, trailer], 0);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, join(dir, SNAPSHOT_FILE));
  if (sync) await fsyncDir(dir);
}
