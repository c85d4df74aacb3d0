import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RaftStorage, RaftStorageInvariantError, RaftStorageUnavailableError } from '../../../src/raft/storage/index.js';
import { entry, hs, segmentFiles, snapshot, tempDir } from './helpers.js';

t.test('concurrent saves are serialized, grouped under few fsyncs, and all durable', async (t) => {
  const dir = await tempDir(t);
  let syncs = 0;
  const s = await RaftStorage.open(dir, { onSync: () => syncs++ });
  const done: number[] = [];
  const saves = Array.from({ length: 200 }, (_, k) => {
    const i = k + 1;
    return s.save({ hardState: hs(1, i - 1), entries: [entry(i, 1)], snapshot: null }).then(() => done.push(i));
  });
  await Promise.all(saves);
  t.same(done, Array.from({ length: 200 }, (_, k) => k + 1), 'they complete in call order');
  t.ok(syncs <= 2, `200 saves issued together took ${syncs} fsync(s)`);

  // Saves issued while a write is in flight join the next group.
  syncs = 0;
  const first = s.save({ hardState: hs(1, 200), entries: [entry(201, 1)], snapshot: null });
  await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  const rest = Array.from({ length: 50 }, (_, k) => s.save({ hardState: null, entries: [entry(202 + k, 1)], snapshot: null }));
  await Promise.all([first, ...rest]);
  t.ok(syncs <= 3, `51 saves, two waves: ${syncs} fsyncs`);
  await s.close();

  const again = await RaftStorage.open(dir);
  t.teardown(() => again.close());
  t.equal(again.load().entries.length, 251);
  t.same(again.load().entries.map((e) => e.index), Array.from({ length: 251 }, (_, k) => k + 1));
  t.same(again.load().hardState, { term: 1, vote: null, commit: 200 });
});

t.test('saves and compactions interleave in call order', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir, { segmentBytes: 2048 });
  const ops: Promise<void>[] = [];
  for (let i = 1; i <= 100; i++) {
    ops.push(s.save({ hardState: hs(1, i), entries: [entry(i, 1, 'p'.repeat(50))], snapshot: null }));
    if (i % 25 === 0) ops.push(s.saveSnapshot(snapshot(i - 5, 1)));
  }
  await Promise.all(ops);
  t.equal(s.load().snapshot?.meta.index, 95);
  await s.close();
  const again = await RaftStorage.open(dir, { segmentBytes: 2048 });
  t.teardown(() => again.close());
  t.same(again.load().entries.map((e) => e.index), [96, 97, 98, 99, 100]);
  t.ok((await segmentFiles(dir)).length <= 2, 'compaction kept the segment count down');
});

t.test('an invalid save rejects alone; its neighbours are stored', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  const a = s.save({ hardState: hs(1, 0), entries: [entry(1, 1)], snapshot: null });
  const bad = s.save({ hardState: null, entries: [entry(5, 1)], snapshot: null });
  const c = s.save({ hardState: null, entries: [entry(2, 1)], snapshot: null });
  await t.rejects(bad, RaftStorageInvariantError);
  await Promise.all([a, c]);
  await s.close();
  const again = await RaftStorage.open(dir);
  t.teardown(() => again.close());
  t.same(again.load().entries.map((e) => e.index), [1, 2]);
});

t.test('after a failed write every call is refused', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir, { segmentBytes: 1024 });
  t.teardown(() => s.close());
  await s.save({ hardState: hs(1, 0), entries: [entry(1, 1, 'q'.repeat(900))], snapshot: null });
  // Squat on the next segment's name so that rotation fails.
  await writeFile(join(dir, '0000000000000002.wal'), 'in the way');
  const failing = s.save({ hardState: null, entries: [entry(2, 1, 'q'.repeat(900))], snapshot: null });
  const queued = s.save({ hardState: null, entries: [entry(3, 1)], snapshot: null });
  await t.rejects(failing, RaftStorageUnavailableError);
  await t.rejects(queued, RaftStorageUnavailableError);
  await t.rejects(s.save({ hardState: hs(2, 0), entries: [], snapshot: null }), { message: /earlier write failed/ });
});

t.test('close waits for pending saves; later calls are refused', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  const pending = s.save({ hardState: hs(1, 0), entries: [entry(1, 1)], snapshot: null });
  await s.close();
  await pending;
  await t.rejects(s.save({ hardState: null, entries: [entry(2, 1)], snapshot: null }), { name: 'RaftStorageUnavailableError', message: /closed/ });
  const again = await RaftStorage.open(dir);
  t.teardown(() => again.close());
  t.equal(again.load().entries.length, 1);
});
