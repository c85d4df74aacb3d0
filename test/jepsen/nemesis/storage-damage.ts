// Damage done to a killed process's files before it restarts (the `storage` nemesis): torn
// tails and bit flips in a meta member's Raft files (docs/raft-storage.md), bit flips in a
// storage node's LevelDB tables. The pure functions take and return bytes, so they are
// unit-tested; the file functions pick a file and apply them.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../../../src/raft/storage/record.js';

/** The content type the durability workload writes with: it marks its records in a node's tables. */
export const DURABILITY_CONTENT_TYPE = 'application/x-opera-durability';

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** The whole records of a WAL segment, by their framing only (length fields); stops at the first that does not fit. */
export function walRecords(segment: Uint8Array): Span[] {
  const buf = Buffer.from(segment.buffer, segment.byteOffset, segment.byteLength);
  const out: Span[] = [];
  let at = SEGMENT_HEADER_BYTES;
  while (at + RECORD_HEADER_BYTES <= buf.length) {
    const n = buf.readUInt32LE(at);
    if (n === 0 || buf[at + 4] !== 1 || at + RECORD_HEADER_BYTES + n > buf.length) break;
    out.push({ start: at, end: at + RECORD_HEADER_BYTES + n });
    at += RECORD_HEADER_BYTES + n;
  }
  return out;
}

function between(rand: () => number, lo: number, hiExclusive: number): number {
  return lo + Math.floor(rand() * (hiExclusive - lo));
}

/**
 * A torn append after the last record: a strict prefix of a record shaped like the last one
 * (same salt, so only its missing bytes make it invalid), sometimes followed by zeros (a
 * file extended but never written). Null if the segment has no record.
 */
export function tearTail(segment: Buffer, rand: () => number): { bytes: Buffer; validEnd: number; added: number } | null {
  const records = walRecords(segment);
  const last = records.at(-1);
  if (last === undefined) return null;
  const record = segment.subarray(last.start, last.end);
  const prefix = record.subarray(0, between(rand, 1, record.length));
  const zeros = rand() < 0.5 ? Buffer.alloc(between(rand, 1, 4096)) : Buffer.alloc(0);
  const bytes = Buffer.concat([segment.subarray(0, last.end), prefix, zeros]);
  return { bytes, validEnd: last.end, added: prefix.length + zeros.length };
}

/**
 * The segment cut inside its last record (not the head record that opens it, which
 * carries the hard state). Null if there is no second record.
 */
export function tearLast(segment: Buffer, rand: () => number): { bytes: Buffer; cutAt: number; recordStart: number } | null {
  const records = walRecords(segment);
  if (records.length < 2) return null;
  const last = records.at(-1)!;
  const cutAt = between(rand, last.start + 1, last.end);
  return { bytes: Buffer.from(segment.subarray(0, cutAt)), cutAt, recordStart: last.start };
}

/** One bit of `buf` at `offset` flipped, in a copy. */
export function flipBit(buf: Buffer, offset: number, bit: number): Buffer {
  if (offset < 0 || offset >= buf.length) throw new RangeError(`offset ${offset} outside 0..${buf.length - 1}`);
  const out = Buffer.from(buf);
  out[offset] = out[offset]! ^ (1 << (bit & 7));
  return out;
}

/** A bit flipped in the payload of a record that is not the last one (synced: later ones were written after it). */
export function flipSealedRecord(segment: Buffer, rand: () => number): { bytes: Buffer; offset: number } | null {
  const records = walRecords(segment);
  if (records.length < 2) return null;
  const r = records[between(rand, 0, records.length - 1)]!;
  const offset = between(rand, r.start + RECORD_HEADER_BYTES, r.end);
  return { bytes: flipBit(segment, offset, between(rand, 0, 8)), offset };
}

/** A bit flipped anywhere in a snapshot file (every byte is covered by its checksum). */
export function flipAnywhere(file: Buffer, rand: () => number): { bytes: Buffer; offset: number } {
  const offset = between(rand, 0, file.length);
  return { bytes: flipBit(file, offset, between(rand, 0, 8)), offset };
}

/**
 * The inline values of object records with the given content type in raw LevelDB bytes (a
 * table or a log file): format byte 1, JSON length (u32 BE), the JSON, then the value.
 */
export function findInlineValues(raw: Buffer, contentType: string): Span[] {
  const out: Span[] = [];
  const needle = Buffer.from('{"version":');
  for (let j = raw.indexOf(needle); j !== -1; j = raw.indexOf(needle, j + 1)) {
    if (j < 5 || raw[j - 5] !== 1) continue;
    const len = raw.readUInt32BE(j - 4);
    if (len > 4096 || j + len > raw.length) continue;
    let meta: { contentType?: unknown; deleted?: unknown; chunks?: unknown; size?: unknown };
    try {
      meta = JSON.parse(raw.toString('utf8', j, j + len)) as typeof meta;
    } catch {
      continue;
    }
    if (meta.contentType !== contentType || meta.deleted !== false || meta.chunks !== 0 || typeof meta.size !== 'number' || meta.size <= 0) continue;
    const start = j + len;
    if (start + meta.size > raw.length) continue;
    out.push({ start, end: start + meta.size });
  }
  return out;
}

export interface Damage {
  readonly file: string;
  readonly what: string;
}

/** The active (highest-numbered) WAL segment of a Raft directory. */
async function activeSegment(raftDir: string): Promise<string | null> {
  const segs = (await readdir(raftDir)).filter((f) => /^\d{16}\.wal$/.test(f)).sort();
  return segs.length === 0 ? null : join(raftDir, segs.at(-1)!);
}

/** Tears the active segment's tail (after its last record, or inside it). */
export async function tearMetaWal(raftDir: string, how: 'tear-tail' | 'tear-last', rand: () => number): Promise<Damage | null> {
  const file = await activeSegment(raftDir);
  if (file === null) return null;
  const seg = await readFile(file);
  if (how === 'tear-tail') {
    const t = tearTail(seg, rand);
    if (t === null) return null;
    await writeFile(file, t.bytes);
    return { file, what: `${t.added} torn bytes after the last record (which ends at ${t.validEnd})` };
  }
  const t = tearLast(seg, rand);
  if (t === null) return null;
  await writeFile(file, t.bytes);
  return { file, what: `cut at ${t.cutAt}, inside the last record (starts at ${t.recordStart}, ${seg.length - t.cutAt} bytes dropped)` };
}

/** Flips a bit in a sealed record of the active segment, or else in the snapshot file. */
export async function flipMeta(raftDir: string, rand: () => number): Promise<Damage | null> {
  const file = await activeSegment(raftDir);
  if (file !== null && rand() < 0.5) {
    const f = flipSealedRecord(await readFile(file), rand);
    if (f !== null) {
      await writeFile(file, f.bytes);
      return { file, what: `bit flipped at ${f.offset} in a synced record that is not the last` };
    }
  }
  const snap = join(raftDir, 'snapshot');
  const buf = await readFile(snap).catch(() => null);
  if (buf === null || buf.length === 0) return null;
  const f = flipAnywhere(buf, rand);
  await writeFile(snap, f.bytes);
  return { file: snap, what: `bit flipped at ${f.offset} of the snapshot file (${buf.length} bytes)` };
}

/** Flips a bit in a durability record's value in one of a node's LevelDB tables (.ldb: sealed, synced). */
export async function flipNodeValue(dataDir: string, rand: () => number): Promise<Damage | null> {
  const tables = (await readdir(dataDir)).filter((f) => f.endsWith('.ldb') || f.endsWith('.sst')).sort();
  const hits: { file: string; span: Span }[] = [];
  const bufs = new Map<string, Buffer>();
  for (const t of tables) {
    const file = join(dataDir, t);
    const buf = await readFile(file);
    const spans = findInlineValues(buf, DURABILITY_CONTENT_TYPE);
    if (spans.length > 0) bufs.set(file, buf);
    for (const span of spans) hits.push({ file, span });
  }
  if (hits.length === 0) return null;
  const hit = hits[between(rand, 0, hits.length)]!;
  const offset = between(rand, hit.span.start, hit.span.end);
  await writeFile(hit.file, flipBit(bufs.get(hit.file)!, offset, between(rand, 0, 8)));
  return { file: hit.file, what: `bit flipped at ${offset} in a stored value (${hit.span.end - hit.span.start} bytes at ${hit.span.start})` };
}
