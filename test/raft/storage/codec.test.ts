// Byte formats: WAL ops, record framing, segment header, snapshot file. Every decoder
// gets malformed input and must answer with its own error, never a crash or a wrong value.

import t from 'tap';
import { crc32c } from '../../../src/raft/storage/crc32c.js';
import { DecodeError, RaftStorageCorruptError } from '../../../src/raft/storage/errors.js';
import { decodeOps, encodeOps, type WalOp } from '../../../src/raft/storage/ops.js';
import {
  decodeSegmentHeader, encodeRecord, encodeSegmentHeader, findValidRecord, readRecord, saltSeed, SEGMENT_HEADER_BYTES,
} from '../../../src/raft/storage/record.js';
import { decodeSnapshotFile, encodeSnapshotFile } from '../../../src/raft/storage/snapshot-file.js';
import { entry, hs, rng, snapshot } from './helpers.js';

const sample: WalOp[] = [
  { kind: 'hardState', hardState: hs(7, 3, 'météore-☄') },
  { kind: 'hardState', hardState: hs(2 ** 53 - 1, 0, null) },
  { kind: 'truncate', from: 12 },
  { kind: 'entry', entry: entry(12, 7, '', 'noop') },
  { kind: 'entry', entry: entry(2 ** 40, 2 ** 33, 'config bytes', 'config') },
  { kind: 'entry', entry: { index: 14, term: 7, type: 'command', data: new Uint8Array([0, 1, 255, 0]) } },
  { kind: 'snapshot', index: 10, term: 6, reset: false },
  { kind: 'snapshot', index: 11, term: 6, reset: true },
];

function normal(ops: WalOp[]): unknown {
  return ops.map((op) => (op.kind === 'entry' ? { ...op, entry: { ...op.entry, data: Buffer.from(op.entry.data).toString('hex') } } : op));
}

t.test('ops round-trip', async (t) => {
  t.same(normal(decodeOps(encodeOps(sample))), normal(sample));
  t.same(decodeOps(encodeOps([])), []);
  t.throws(() => encodeOps([{ kind: 'truncate', from: -1 }]), RangeError);
  t.throws(() => encodeOps([{ kind: 'truncate', from: 2 ** 53 }]), RangeError);
});

t.test('truncated op payloads fail with DecodeError or parse to a prefix', async (t) => {
  const full = encodeOps(sample);
  for (let n = 0; n < full.length; n++) {
    try {
      const ops = decodeOps(full.subarray(0, n));
      t.same(normal(ops), normal(sample.slice(0, ops.length)), `cut at ${n} parses to a prefix`);
    } catch (err) {
      if (!(err instanceof DecodeError)) t.fail(`cut at ${n}: ${String(err)}`);
    }
  }
});

t.test('garbage op payloads fail only with DecodeError', async (t) => {
  const seed = 99;
  t.comment(`seed ${seed}`);
  const next = rng(seed);
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256)));
    if (next() < 0.5) junk[0] = 1 + Math.floor(next() * 4); // a known kind more often
    try {
      decodeOps(junk);
    } catch (err) {
      if (!(err instanceof DecodeError)) t.fail(`unexpected ${String(err)}`);
    }
  }
  t.throws(() => decodeOps(Buffer.from([3, 4, 0, 0, 0, 1, 2, 3, 4])), { message: /expected 8/ });
  t.throws(() => decodeOps(Buffer.from([4, 17, 0, 0, 0, ...new Array(16).fill(0), 2])), { message: /bad snapshot mode/ });
  t.throws(() => decodeOps(Buffer.from([1, 17, 0, 0, 0, ...new Array(16).fill(0), 9])), { message: /unknown entry type/ });
  t.throws(() => decodeOps(Buffer.from([2, 18, 0, 0, 0, ...new Array(16).fill(0), 0, 65])), { message: /without vote flag/ });
  t.throws(() => decodeOps(Buffer.from([3, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0])), { message: /safe integer/ });
});

t.test('records: framing, salt, damage', async (t) => {
  const seed = saltSeed(0xdecafbad);
  const payload = encodeOps(sample);
  const rec = encodeRecord(seed, payload);
  const file = Buffer.concat([rec, rec]);
  const r = readRecord(file, 0, seed);
  t.ok(r.ok && r.end === rec.length && r.payload.equals(payload));
  t.notOk(readRecord(file, 0, saltSeed(0xdecafbac)).ok, 'another segment\'s salt does not validate');
  t.equal(findValidRecord(file, 1, seed), rec.length);
  t.equal(findValidRecord(rec, 1, seed), -1);
  for (let at = 0; at < rec.length; at++) {
    const bad = Buffer.from(rec);
    bad[at]! ^= 0x01;
    if (readRecord(bad, 0, seed).ok) t.fail(`flip at ${at} accepted`);
  }
  for (let n = 0; n < rec.length; n++) if (readRecord(rec.subarray(0, n), 0, seed).ok) t.fail(`cut at ${n} accepted`);
  t.match(readRecord(Buffer.alloc(32), 0, seed), { ok: false, reason: /unknown record type 0/ });
  t.throws(() => encodeRecord(seed, Buffer.alloc(0)), /must not be empty/);
});

t.test('segment header', async (t) => {
  const h = encodeSegmentHeader(123456789);
  t.equal(h.length, SEGMENT_HEADER_BYTES);
  t.same(decodeSegmentHeader(h), { ok: true, salt: 123456789 });
  for (let at = 0; at < h.length; at++) {
    const bad = Buffer.from(h);
    bad[at]! ^= 0x80;
    t.equal(decodeSegmentHeader(bad).ok, false, `flip at ${at}`);
  }
  t.match(decodeSegmentHeader(h.subarray(0, 15)), { ok: false, reason: /shorter than the header/ });
  const v2 = Buffer.from(h);
  v2.writeUInt16LE(2, 4);
  v2.writeUInt32LE(crc32c(v2.subarray(0, 12)), 12); // re-checksummed, to reach the version check
  t.match(decodeSegmentHeader(v2), { ok: false, reason: /unsupported segment version 2/ });
});

t.test('snapshot file round-trip and damage', async (t) => {
  const snap = snapshot(42, 7, 'x'.repeat(1000));
  const buf = encodeSnapshotFile(snap);
  const back = decodeSnapshotFile(buf);
  t.same(back.meta, snap.meta);
  t.same(Buffer.from(back.data), Buffer.from(snap.data));
  t.throws(() => decodeSnapshotFile(buf.subarray(0, 10)), RaftStorageCorruptError);
  t.throws(() => decodeSnapshotFile(Buffer.concat([buf, Buffer.alloc(1)])), { message: /checksum mismatch/ });
  for (let n = 0; n < buf.length; n += 37) t.throws(() => decodeSnapshotFile(buf.subarray(0, n)), RaftStorageCorruptError, `cut at ${n}`);
});
