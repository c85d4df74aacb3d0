// Crash damage at the end of the log: every possible cut and bit flip of the last record.

import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RaftStorage, RaftStorageCorruptError } from '../../../src/raft/storage/index.js';
import { entries, entry, hs, plain, recordRanges, rng, segmentFiles, tempDir } from './helpers.js';

/** Writes four batches; returns the state before the last one and the last record's range. */
async function buildLog(dir: string): Promise<{ before: unknown; after: unknown; file: string; last: [number, number] }> {
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(1, 0, 'a'), entries: [entry(1, 1, '', 'noop')], snapshot: null });
  await s.save({ hardState: hs(1, 1, 'a'), entries: entries(2, 4, 1), snapshot: null });
  const before = plain(s.load());
  await s.save({ hardState: hs(2, 3, 'b'), entries: [entry(4, 2, 'replaced'), entry(5, 2, 'five')], snapshot: null });
  const after = plain(s.load());
  await s.close();
  const file = join(dir, (await segmentFiles(dir)).at(-1)!);
  const last = (await recordRanges(file)).at(-1)!;
  return { before, after, file, last };
}

async function openCollectingWarnings(dir: string): Promise<{ s: RaftStorage; warnings: string[] }> {
  const warnings: string[] = [];
  const s = await RaftStorage.open(dir, { onWarn: (msg, d) => warnings.push(`${msg} ${JSON.stringify(d)}`) });
  return { s, warnings };
}

t.test('a cut at every byte of the last record recovers the state before it', async (t) => {
  const dir = await tempDir(t);
  const { before, after, file, last } = await buildLog(dir);
  const original = await readFile(file);
  t.equal(original.length, last[1]);
  for (let cut = last[0]; cut < last[1]; cut++) {
    await writeFile(file, original.subarray(0, cut));
    const { s, warnings } = await openCollectingWarnings(dir);
    try {
      t.same(plain(s.load()), before, `cut at ${cut}`);
      if (cut > last[0]) t.equal(warnings.length, 1, `cut at ${cut} is reported`);
      t.equal((await readFile(file)).length, last[0], `file cut back to ${last[0]}`);
      // The log goes on cleanly after the cut.
      await s.save({ hardState: hs(3, 4, null), entries: [entry(5, 3, 'after-cut')], snapshot: null });
    } finally {
      await s.close();
    }
    const again = await RaftStorage.open(dir);
    const got = again.load();
    await again.close();
    t.same(got.entries.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 1], [4, 1], [5, 3]], `append after cut at ${cut}`);
    t.same(got.hardState, { term: 3, vote: null, commit: 4 });
  }
  await writeFile(file, original);
  const whole = await RaftStorage.open(dir);
  t.same(plain(whole.load()), after, 'the untouched log recovers in full');
  await whole.close();
});

t.test('a flipped bit anywhere in the last record cuts it, never accepts it', async (t) => {
  const dir = await tempDir(t);
  const { before, file, last } = await buildLog(dir);
  const original = await readFile(file);
  let refused = 0;
  for (let at = last[0]; at < last[1]; at++) {
    // Every bit of the 9-byte header, one bit (varying) of each payload byte.
    const bits = at < last[0] + 9 ? [0, 1, 2, 3, 4, 5, 6, 7] : [at % 8];
    for (const bit of bits) {
      const damaged = Buffer.from(original);
      damaged[at]! ^= 1 << bit;
      await writeFile(file, damaged);
      let opened: { s: RaftStorage; warnings: string[] };
      try {
        opened = await openCollectingWarnings(dir);
      } catch (err) {
        // A length made shorter leaves bytes after the record's end: that is proof of a
        // bit flip in synced data, not of a torn write, and may be refused instead.
        if (err instanceof RaftStorageCorruptError && at < last[0] + 4) {
          refused++;
          continue;
        }
        throw err;
      }
      const state = plain(opened.s.load());
      await opened.s.close();
      if (JSON.stringify(state) !== JSON.stringify(before) || opened.warnings.length !== 1) {
        t.fail(`flip of bit ${bit} at byte ${at} was not cut`, { state, warnings: opened.warnings });
      }
    }
  }
  t.pass(`every flip in bytes ${last[0]}..${last[1] - 1} was cut, or refused (${refused}) for a shortened length`);
  t.ok(refused > 0 && refused < 32, 'only flips of the length field are refused');
});

t.test('zeroed or random garbage after the last record is cut', async (t) => {
  const dir = await tempDir(t);
  const { after, file } = await buildLog(dir);
  const original = await readFile(file);
  const seed = 7;
  t.comment(`seed ${seed}`);
  const next = rng(seed);
  const garbage = Buffer.from(Array.from({ length: 3000 }, () => Math.floor(next() * 256)));
  const tails: Array<[string, Buffer]> = [
    ['preallocated zeros', Buffer.alloc(8192)],
    ['one zero byte', Buffer.alloc(1)],
    ['random bytes', garbage],
    ['a torn header then zeros', Buffer.concat([Buffer.from([40, 0, 0, 0, 1]), Buffer.alloc(100)])],
  ];
  for (const [name, tail] of tails) {
    await writeFile(file, Buffer.concat([original, tail]));
    const { s, warnings } = await openCollectingWarnings(dir);
    t.same(plain(s.load()), after, name);
    t.equal(warnings.length, 1, `${name} reported`);
    await s.close();
    t.equal((await readFile(file)).length, original.length, `${name} cut off`);
  }
});

t.test('damage followed by a valid record is corruption, not a torn tail', async (t) => {
  const dir = await tempDir(t);
  const { file } = await buildLog(dir);
  const original = await readFile(file);
  const ranges = await recordRanges(file);
  const middle = ranges.at(-2)!;
  for (let at = middle[0]; at < middle[1]; at++) {
    const damaged = Buffer.from(original);
    damaged[at]! ^= 0x10;
    await writeFile(file, damaged);
    await t.rejects(RaftStorage.open(dir), RaftStorageCorruptError, `flip at byte ${at} is refused`);
    t.same(await readFile(file), damaged, 'and the file is left untouched for inspection');
  }
  // Same when the middle record is damaged and the last one is also torn.
  const both = Buffer.from(original.subarray(0, ranges.at(-1)![1] - 3));
  both[middle[0] + 12]! ^= 0xff;
  await writeFile(file, both);
  await t.rejects(RaftStorage.open(dir), /data written after it/);
});

t.test('a cut in the middle of the log (lost synced records) with a valid tail is refused', async (t) => {
  const dir = await tempDir(t);
  const { file } = await buildLog(dir);
  const original = await readFile(file);
  const ranges = await recordRanges(file);
  const [a, b] = ranges.at(-2)!;
  // Drop half of the middle record: its length field now overruns into the next one.
  await writeFile(file, Buffer.concat([original.subarray(0, a + Math.floor((b - a) / 2)), original.subarray(b)]));
  await t.rejects(RaftStorage.open(dir), RaftStorageCorruptError);
});
