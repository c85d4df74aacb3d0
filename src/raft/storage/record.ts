// Segment header and record framing of the write-ahead log.
//
// segment header (16 bytes): magic "SOWL" | version u16 | reserved u16 (0) | salt u32 | crc32c(bytes 0..11) u32
// record: payloadLength u32 | type u8 | crc u32 | payload
//   crc = CRC32C(salt ‖ payloadLength ‖ type ‖ payload), salt as u32 LE.
// The per-segment random salt means a record only validates inside the segment that wrote
// it: stale blocks of an old file, or log data that happens to contain record-shaped
// bytes, never pass as records when recovery scans a damaged tail.

import { crc32c } from './crc32c.js';

export const SEGMENT_MAGIC = Buffer.from('SOWL', 'latin1');
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 9;
/** The only record type so far: the operations of one fsync batch. */
export const RECORD_TYPE_BATCH = 1;
const MAX_PAYLOAD = 0xffff_ffff;

export function encodeSegmentHeader(salt: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(b, 0);
  b.writeUInt16LE(SEGMENT_VERSION, 4);
  b.writeUInt16LE(0, 6);
  b.writeUInt32LE(salt >>> 0, 8);
  b.writeUInt32LE(crc32c(b.subarray(0, 12)), 12);
  return b;
}

export type SegmentHeaderResult = { ok: true; salt: number } | { ok: false; reason: string };

export function decodeSegmentHeader(buf: Buffer): SegmentHeaderResult {
  if (buf.length < SEGMENT_HEADER_BYTES) return { ok: false, reason: `file is ${buf.length} bytes, shorter than the header` };
  if (!buf.subarray(0, 4).equals(SEGMENT_MAGIC)) return { ok: false, reason: 'bad magic' };
  if (buf.readUInt32LE(12) !== crc32c(buf.subarray(0, 12))) return { ok: false, reason: 'header checksum mismatch' };
  const version = buf.readUInt16LE(4);
  if (version !== SEGMENT_VERSION) return { ok: false, reason: `unsupported segment version ${version}` };
  return { ok: true, salt: buf.readUInt32LE(8) };
}

/** CRC seed for a segment: the CRC of its salt bytes. */
export function saltSeed(salt: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(salt >>> 0, 0);
  return crc32c(b);
}

export function encodeRecord(seed: number, payload: Buffer): Buffer {
  if (payload.length === 0) throw new Error('a WAL record must not be empty');
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`WAL record of ${payload.length} bytes exceeds the 4 GiB limit`);
  const rec = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  rec.writeUInt32LE(payload.length, 0);
  rec.writeUInt8(RECORD_TYPE_BATCH, 4);
  payload.copy(rec, RECORD_HEADER_BYTES);
  rec.writeUInt32LE(crc32c(payload, crc32c(rec.subarray(0, 5), seed)), 5);
  return rec;
}

export type RecordResult =
  | { ok: true; payload: Buffer; end: number }
  | { ok: false; reason: string };

/** Tries to read one record at `offset`; never throws on bad bytes. */
export function readRecord(buf: Buffer, offset: number, seed: number): RecordResult {
  const left = buf.length - offset;
  if (left < RECORD_HEADER_BYTES) return { ok: false, reason: `${left} bytes left, less than a record header` };
  const len = buf.readUInt32LE(offset);
  const type = buf.readUInt8(offset + 4);
  if (type !== RECORD_TYPE_BATCH) return { ok: false, reason: `unknown record type ${type}` };
  if (len === 0) return { ok: false, reason: 'empty record' };
  const end = offset + RECORD_HEADER_BYTES + len;
  if (end > buf.length) return { ok: false, reason: `record of ${len} bytes runs past the end of the file` };
  const payload = buf.subarray(offset + RECORD_HEADER_BYTES, end);
  const want = crc32c(payload, crc32c(buf.subarray(offset, offset + 5), seed));
  if (buf.readUInt32LE(offset + 5) !== want) return { ok: false, reason: 'checksum mismatch' };
  return { ok: true, payload, end };
}

/**
 * First offset after `from` where a valid record starts, or -1. Used to tell a torn tail
 * (nothing valid follows the damage) from corruption of synced data (something does).
 */
export function findValidRecord(buf: Buffer, from: number, seed: number): number {
  for (let p = from; p + RECORD_HEADER_BYTES < buf.length; p++) {
    if (buf[p + 4] !== RECORD_TYPE_BATCH) continue; // cheap filter before the checksum
    if (readRecord(buf, p, seed).ok) return p;
  }
  return -1;
}

/**
 * Whether the bad record at `offset` has an intact-looking header whose end lies before
 * non-zero bytes. Each write() only extends the file by one record, so data past a
 * record's end means a later write happened, which only ever follows the fsync of this
 * one: the record was synced and is damaged, not torn. (Zeros are exempt: a file system
 * may expose an extended but unwritten range as zeros.)
 */
export function laterDataFollows(buf: Buffer, offset: number): boolean {
  if (buf.length - offset < RECORD_HEADER_BYTES || buf[offset + 4] !== RECORD_TYPE_BATCH) return false;
  const len = buf.readUInt32LE(offset);
  const end = offset + RECORD_HEADER_BYTES + len;
  if (len === 0 || end >= buf.length) return false;
  for (let i = end; i < buf.length; i++) if (buf[i] !== 0) return true;
  return false;
}
