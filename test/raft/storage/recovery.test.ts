// Recovery beyond the torn tail: damaged segments, interrupted segment creation, the
// snapshot file, and crashes between writing a snapshot file and its WAL record.

import t from 'tap';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RaftStorage, RaftStorageCorruptError } from '../../../src/raft/storage/index.js';
import { encodeOps } from '../../../src/raft/storage/ops.js';
import { decodeSegmentHeader, encodeRecord, saltSeed } from '../../../src/raft/storage/record.js';
import { writeSnapshotFile } from '../../../src/raft/storage/snapshot-file.js';
import { entries, entry, hs, plain, recordRanges, segmentFiles, snapshot, tempDir } from './helpers.js';

/** A log spread over several 1 KiB segments: entries 1..40 in term 1, commit 40. */
async function multiSegmentLog(dir: string): Promise<unknown> {
  const s = await RaftStorage.open(dir, { segmentBytes: 1024 });
  for (let i = 1; i <= 40; i++) await s.save({ hardState: hs(1, i), entries: [entry(i, 1, 'z'.repeat(90))], snapshot: null });
  const state = plain(s.load());
  await s.close();
  return state;
}

t.test('damage in a segment that is not the last is refused', async (t) => {
  const dir = await tempDir(t);
  await multiSegmentLog(dir);
  const files = await segmentFiles(dir);
  t.ok(files.length >= 4);
  const first = join(dir, files[0]!);
  const original = await readFile(first);
  const [a, b] = (await recordRanges(first)).at(-1)!;

  await writeFile(first, original.subarray(0, b - 1));
  await t.rejects(RaftStorage.open(dir), { name: 'RaftStorageCorruptError', message: /not the last/ }, 'torn end of an old segment');

  const flipped = Buffer.from(original);
  flipped[a + 20]! ^= 4;
  await writeFile(first, flipped);
  await t.rejects(RaftStorage.open(dir), RaftStorageCorruptError, 'flipped bit in an old segment');

  const badHeader = Buffer.from(original);
  badHeader[1]! ^= 1;
  await writeFile(first, badHeader);
  await t.rejects(RaftStorage.open(dir), { message: /segment header/ }, 'bad header of an old segment');

  await writeFile(first, Buffer.concat([original, Buffer.alloc(64)]));
  await t.rejects(RaftStorage.open(dir), RaftStorageCorruptError, 'zeros after an old segment');

  await writeFile(first, original);
  await rm(join(dir, files[1]!));
  await t.rejects(RaftStorage.open(dir), { message: /is missing/ }, 'a missing segment');
});

t.test('a last segment whose creation was interrupted is recreated', async (t) => {
  for (const partial of [Buffer.alloc(0), Buffer.from('SOW'), Buffer.alloc(16)]) {
    const dir = await tempDir(t);
    const state = await multiSegmentLog(dir);
    const files = await segmentFiles(dir);
    const next = String(Number(files.at(-1)!.slice(0, 16)) + 1).padStart(16, '0') + '.wal';
    await writeFile(join(dir, next), partial);
    const warnings: string[] = [];
    const s = await RaftStorage.open(dir, { segmentBytes: 1024, onWarn: (m) => warnings.push(m) });
    t.same(plain(s.load()), state, `partial header of ${partial.length} bytes`);
    t.equal(warnings.length, 1);
    await s.save({ hardState: hs(1, 41), entries: [entry(41, 1)], snapshot: null });
    await s.close();
    t.ok(decodeSegmentHeader(await readFile(join(dir, next))).ok, 'recreated with a valid header');
    const again = await RaftStorage.open(dir, { segmentBytes: 1024 });
    t.equal(again.load().entries.length, 41);
    await again.close();
  }
});

t.test('a bad header on a last segment that holds data is refused', async (t) => {
  const dir = await tempDir(t);
  await multiSegmentLog(dir);
  const last = join(dir, (await segmentFiles(dir)).at(-1)!);
  const buf = await readFile(last);
  buf[9]! ^= 1; // the salt
  await writeFile(last, buf);
  await t.rejects(RaftStorage.open(dir), { name: 'RaftStorageCorruptError', message: /segment header/ });
});

t.test('a record with a valid checksum but nonsense inside is refused', async (t) => {
  const dir = await tempDir(t);
  await multiSegmentLog(dir);
  const last = join(dir, (await segmentFiles(dir)).at(-1)!);
  const buf = await readFile(last);
  const header = decodeSegmentHeader(buf);
  if (!header.ok) throw new Error('fixture');
  const seed = saltSeed(header.salt);

  await writeFile(last, Buffer.concat([buf, encodeRecord(seed, Buffer.from([9, 0, 0, 0, 0]))]));
  await t.rejects(RaftStorage.open(dir), { message: /undecodable record: unknown op kind 9/ });

  const gap = encodeOps([{ kind: 'entry', entry: entry(50, 1) }]);
  await writeFile(last, Buffer.concat([buf, encodeRecord(seed, gap)]));
  await t.rejects(RaftStorage.open(dir), { message: /entry 50 does not follow/ });

  const lowerTerm = encodeOps([{ kind: 'hardState', hardState: hs(1, 40) }, { kind: 'truncate', from: 41 }, { kind: 'entry', entry: entry(41, 2) }]);
  await writeFile(last, Buffer.concat([buf, encodeRecord(seed, lowerTerm)]));
  await t.rejects(RaftStorage.open(dir), { message: /term 2 is above the current term 1/ });
});

t.test('snapshot file: a leftover temp file is ignored, damage is refused', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(1, 5), entries: entries(1, 6, 1), snapshot: null });
  await s.saveSnapshot(snapshot(5, 1, 'the state machine at 5'));
  const state = plain(s.load());
  await s.close();

  await writeFile(join(dir, 'snapshot.tmp'), 'half a snapsh');
  const again = await RaftStorage.open(dir);
  t.same(plain(again.load()), state);
  await again.close();
  t.same(await segmentFiles(dir), ['0000000000000001.wal']);
  await t.rejects(readFile(join(dir, 'snapshot.tmp')), { code: 'ENOENT' }, 'the temp file is removed');

  const good = await readFile(join(dir, 'snapshot'));
  for (let at = 0; at < good.length; at++) {
    const bad = Buffer.from(good);
    bad[at]! ^= 0x20;
    await writeFile(join(dir, 'snapshot'), bad);
    await t.rejects(RaftStorage.open(dir), { name: 'RaftStorageCorruptError', message: /snapshot file/ }, `flip at byte ${at}`);
  }
  await writeFile(join(dir, 'snapshot'), good.subarray(0, good.length - 1));
  await t.rejects(RaftStorage.open(dir), { message: /snapshot file: checksum mismatch/ });

  await rm(join(dir, 'snapshot'));
  await t.rejects(RaftStorage.open(dir), { name: 'RaftStorageCorruptError', message: /newer than the snapshot file/ }, 'a lost snapshot file');
});

t.test('crash after the compaction snapshot file, before its WAL record', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(2, 8, 'a'), entries: [...entries(1, 4, 1), ...entries(5, 10, 2)], snapshot: null });
  await s.close();
  await writeSnapshotFile(dir, snapshot(8, 2), true);
  const again = await RaftStorage.open(dir);
  t.same(again.load().entries.map((e) => e.index), [9, 10], 'the log beyond the snapshot is kept');
  t.same(again.load().hardState, { term: 2, vote: 'a', commit: 8 });
  await again.close();
  const third = await RaftStorage.open(dir);
  t.same(third.load().entries.map((e) => e.index), [9, 10]);
  await third.close();
});

t.test('crash after a received snapshot file, before its WAL record', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(2, 3, 'a'), entries: [...entries(1, 4, 1), ...entries(5, 12, 2)], snapshot: null });
  await s.close();
  // The leader's snapshot at 10 has term 4: our entry 10 (term 2) conflicts, so the log goes.
  await writeSnapshotFile(dir, snapshot(10, 4), true);
  const again = await RaftStorage.open(dir);
  t.same(again.load().entries, []);
  t.same(again.load().hardState, { term: 4, vote: null, commit: 10 }, 'term and commit cover the snapshot');
  await again.save({ hardState: null, entries: [entry(11, 4)], snapshot: null });
  await again.close();
  const third = await RaftStorage.open(dir);
  t.same(third.load().entries.map((e) => [e.index, e.term]), [[11, 4]]);
  t.same(third.load().hardState, { term: 4, vote: null, commit: 10 });
  await third.close();
});
