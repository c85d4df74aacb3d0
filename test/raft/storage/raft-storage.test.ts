import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RaftStorage, type RaftStorageOptions } from '../../../src/raft/storage/index.js';
import { writeSnapshotFile } from '../../../src/raft/storage/snapshot-file.js';
import { entries, entry, hs, plain, segmentFiles, snapshot, tempDir, type Teardown } from './helpers.js';

async function reopen(t: Teardown, dir: string, opts: RaftStorageOptions = {}): Promise<RaftStorage> {
  const s = await RaftStorage.open(dir, opts);
  t.teardown(() => s.close());
  return s;
}

t.test('an empty directory opens to the initial state', async (t) => {
  const dir = join(await tempDir(t), 'does', 'not', 'exist');
  const s = await reopen(t, dir);
  t.same(plain(s.load()), { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
  t.same(await segmentFiles(dir), ['0000000000000001.wal']);
});

t.test('hard state and entries survive close and reopen', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(1, 0, 'a'), entries: [], snapshot: null });
  await s.save({ hardState: hs(1, 2, 'a'), entries: [entry(1, 1, '', 'noop'), entry(2, 1, 'x'), entry(3, 1, 'y', 'config')], snapshot: null });
  await s.save({ hardState: null, entries: [entry(4, 1, '\u0000\u00ff binary')], snapshot: null });
  const before = plain(s.load());
  await s.close();
  const again = await reopen(t, dir);
  t.same(plain(again.load()), before);
  t.equal(again.load().entries.length, 4);
  t.same(again.load().hardState, { term: 1, vote: 'a', commit: 2 });
});

t.test('a conflicting append truncates the stored suffix', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(2, 2), entries: [...entries(1, 3, 1), ...entries(4, 6, 2)], snapshot: null });
  // A new leader in term 3 overwrites 5..6 with its own entry 5.
  await s.save({ hardState: hs(3, 2), entries: [entry(5, 3, 'new-5')], snapshot: null });
  const want = [...entries(1, 3, 1), entry(4, 2), entry(5, 3, 'new-5')];
  t.same(plain({ ...s.load(), hardState: hs(0, 0) }), plain({ hardState: hs(0, 0), snapshot: null, entries: want }));
  // Re-sending the same suffix (an idempotent retry) replaces it too.
  await s.save({ hardState: null, entries: [entry(5, 3, 'new-5'), entry(6, 3)], snapshot: null });
  await s.close();
  const again = await reopen(t, dir);
  t.same(again.load().entries.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 1], [4, 2], [5, 3], [6, 3]]);
  t.same(Buffer.from(again.load().entries[4]!.data).toString(), 'new-5');
});

t.test('compaction then more entries', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(1, 8), entries: entries(1, 10, 1), snapshot: null });
  await s.saveSnapshot(snapshot(8, 1, 'applied through 8'));
  await s.save({ hardState: hs(2, 11), entries: entries(11, 12, 2), snapshot: null });
  const before = plain(s.load());
  t.same(s.load().entries.map((e) => e.index), [9, 10, 11, 12]);
  await s.close();
  const again = await reopen(t, dir);
  t.same(plain(again.load()), before);
  t.equal(Buffer.from(again.load().snapshot!.data).toString(), 'applied through 8');
  t.same(again.load().snapshot!.meta.config, { voters: ['a', 'b', 'c'], learners: ['d'] });
});

t.test('a snapshot received from the leader resets the log', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  await s.save({ hardState: hs(2, 3), entries: [...entries(1, 3, 1), ...entries(4, 7, 2)], snapshot: null });
  await s.save({ hardState: hs(5, 20), entries: entries(21, 22, 5), snapshot: snapshot(20, 4) });
  t.same(s.load().entries.map((e) => e.index), [21, 22]);
  await s.close();
  const again = await reopen(t, dir);
  const got = again.load();
  t.same(got.snapshot?.meta.index, 20);
  t.same(got.entries.map((e) => [e.index, e.term]), [[21, 5], [22, 5]]);
  t.same(got.hardState, { term: 5, vote: null, commit: 20 });
  // The log goes on after the snapshot and survives another restart.
  await again.save({ hardState: null, entries: [entry(23, 5)], snapshot: null });
  await again.close();
  const third = await reopen(t, dir);
  t.same(third.load().entries.map((e) => e.index), [21, 22, 23]);
});

t.test('segments rotate at the size limit and compaction deletes covered ones', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir, { segmentBytes: 1024 });
  for (let i = 1; i <= 60; i++) {
    await s.save({ hardState: hs(1, i - 1, 'a'), entries: [entry(i, 1, 'x'.repeat(100))], snapshot: null });
  }
  const files = await segmentFiles(dir);
  t.ok(files.length >= 6, `rotated into ${files.length} segments`);
  for (const f of files.slice(0, -1)) {
    const size = (await readFile(join(dir, f))).length;
    t.ok(size <= 1024, `${f} is ${size} bytes`);
  }
  await s.saveSnapshot(snapshot(40, 1));
  const left = await segmentFiles(dir);
  t.ok(left.length < files.length, `compaction removed ${files.length - left.length} segments`);
  t.equal(left.at(-1), files.at(-1), 'the active segment stays');
  const before = plain(s.load());
  await s.close();
  const again = await reopen(t, dir, { segmentBytes: 1024 });
  t.same(plain(again.load()), before);
  t.same(again.load().entries.map((e) => e.index), Array.from({ length: 20 }, (_, i) => 41 + i));
  t.same(again.load().hardState, { term: 1, vote: 'a', commit: 59 }, 'the hard state outlives the segments that wrote it');
  // Compacting everything keeps only segments the log still needs.
  await again.save({ hardState: hs(1, 60, 'a'), entries: [], snapshot: null });
  await again.saveSnapshot(snapshot(60, 1));
  t.equal((await segmentFiles(dir)).length, 1, 'only the active segment is left');
  await again.close();
  const third = await reopen(t, dir, { segmentBytes: 1024 });
  t.same(third.load().entries, []);
  t.equal(third.load().snapshot?.meta.index, 60);
  t.same(third.load().hardState, { term: 1, vote: 'a', commit: 60 });
});

t.test('a received snapshot makes every older segment removable', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir, { segmentBytes: 1024 });
  for (let i = 1; i <= 30; i++) await s.save({ hardState: hs(2, 0), entries: [entry(i, 2, 'y'.repeat(100))], snapshot: null });
  t.ok((await segmentFiles(dir)).length > 3);
  // Entries above the snapshot index were divergent: the reset drops them all.
  await s.save({ hardState: hs(3, 10), entries: [], snapshot: snapshot(10, 3) });
  t.equal((await segmentFiles(dir)).length, 1);
  await s.close();
  const again = await reopen(t, dir, { segmentBytes: 1024 });
  t.same(again.load().entries, []);
  t.same(again.load().hardState, { term: 3, vote: null, commit: 10 });
});

t.test('files are private and nothing else is left behind', async (t) => {
  const dir = await tempDir(t);
  const s = await reopen(t, dir);
  await s.save({ hardState: hs(1, 1), entries: [entry(1, 1)], snapshot: null });
  await s.saveSnapshot(snapshot(1, 1));
  t.same((await readdir(dir)).sort(), ['0000000000000001.wal', 'snapshot']);
});

t.test('unsynced mode and the sync observer', async (t) => {
  const dir = await tempDir(t);
  const times: number[] = [];
  const s = await reopen(t, dir, { onSync: (ms: number) => times.push(ms) });
  const atOpen = times.length;
  await s.save({ hardState: hs(1, 0), entries: [entry(1, 1)], snapshot: null });
  t.equal(times.length, atOpen + 1, 'one fdatasync per save');
  t.ok(times.every((ms) => ms >= 0));
  const dir2 = await tempDir(t);
  const fast: number[] = [];
  const u = await reopen(t, dir2, { sync: false, onSync: (ms: number) => fast.push(ms) });
  await u.save({ hardState: hs(1, 0), entries: [entry(1, 1)], snapshot: null });
  t.equal(fast.length, 0);
});

t.test('the bootstrap snapshot at index 0 carries the initial configuration', async (t) => {
  const dir = await tempDir(t);
  const boot = { meta: { index: 0, term: 0, config: { voters: ['m1', 'm2', 'm3'], learners: [] } }, data: new Uint8Array([1, 2, 3]) };
  const s = await RaftStorage.open(dir);
  await s.saveSnapshot(boot);
  await s.close();
  const a = await RaftStorage.open(dir);
  t.same(a.load().snapshot?.meta, boot.meta);
  t.same(a.load().entries, []);
  await a.save({ hardState: hs(1, 2, 'm1'), entries: entries(1, 3, 1), snapshot: null });
  await a.close();
  const b = await RaftStorage.open(dir, { segmentBytes: 1024 });
  t.same(b.load().entries.map((e) => e.index), [1, 2, 3]);
  t.same(b.load().snapshot?.meta, boot.meta);
  await b.saveSnapshot(snapshot(2, 1));
  await b.close();
  const c = await reopen(t, dir);
  t.same(c.load().entries.map((e) => e.index), [3]);
  t.equal(c.load().snapshot?.meta.index, 2);
});

t.test('a bootstrap snapshot file whose WAL record was lost still opens', async (t) => {
  const dir = await tempDir(t);
  await writeSnapshotFile(dir, { meta: { index: 0, term: 0, config: { voters: ['m1'], learners: [] } }, data: new Uint8Array() }, true);
  const s = await RaftStorage.open(dir);
  t.same(s.load().hardState, { term: 0, vote: null, commit: 0 });
  await s.save({ hardState: hs(1, 1, 'm1'), entries: [entry(1, 1)], snapshot: null });
  await s.close();
  const again = await reopen(t, dir);
  t.same(again.load().entries.map((e) => e.index), [1]);
  t.same(again.load().snapshot?.meta.config.voters, ['m1']);
});
