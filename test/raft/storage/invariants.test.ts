import t from 'tap';
import { RaftStorage, RaftStorageInvariantError, type SaveBatch } from '../../../src/raft/storage/index.js';
import type { Entry, Snapshot } from '../../../src/raft/types.js';
import { entries, entry, hs, plain, snapshot, tempDir } from './helpers.js';

t.test('bad batches are refused and change nothing', async (t) => {
  const dir = await tempDir(t);
  const s = await RaftStorage.open(dir);
  t.teardown(() => s.close());
  // Log: 1..3 term 1, 4..6 term 2, commit 4, snapshot at 2.
  await s.save({ hardState: hs(2, 4, 'a'), entries: [...entries(1, 3, 1), ...entries(4, 6, 2)], snapshot: null });
  await s.saveSnapshot(snapshot(2, 1));
  const before = plain(s.load());

  const bad: Array<[string, SaveBatch, RegExp]> = [
    ['a gap', { hardState: null, entries: [entry(8, 2)], snapshot: null }, /leave a gap/],
    ['non-contiguous entries', { hardState: null, entries: [entry(7, 2), entry(9, 2)], snapshot: null }, /not contiguous/],
    ['terms going down inside a batch', { hardState: null, entries: [entry(7, 2), entry(8, 1)], snapshot: null }, /below 2/],
    ['a term below the stored one before it', { hardState: null, entries: [entry(7, 1)], snapshot: null }, /below the stored term 2/],
    ['truncating committed entries', { hardState: null, entries: [entry(4, 2)], snapshot: null }, /truncate committed/],
    ['overwriting the snapshot', { hardState: null, entries: [entry(2, 2)], snapshot: null }, /overwrite the snapshot/],
    ['a term going back', { hardState: hs(1, 4), entries: [], snapshot: null }, /term would go back/],
    ['a second vote in a term', { hardState: hs(2, 4, 'b'), entries: [], snapshot: null }, /vote in term 2 would change/],
    ['commit going back', { hardState: hs(2, 3, 'a'), entries: [], snapshot: null }, /commit would go back/],
    ['commit beyond the log', { hardState: hs(2, 7, 'a'), entries: [], snapshot: null }, /beyond the last index/],
    ['entries above the current term', { hardState: null, entries: [entry(7, 3)], snapshot: null }, /above the current term/],
    ['an old received snapshot', { hardState: null, entries: [], snapshot: snapshot(2, 1) }, /not newer/],
    ['a received snapshot below commit', { hardState: null, entries: [], snapshot: snapshot(3, 1) }, /commit 4 would be beyond/],
    ['entry index 0', { hardState: null, entries: [entry(0, 2)], snapshot: null }, /entry index must be an integer >= 1/],
    ['a fractional term', { hardState: null, entries: [{ ...entry(7, 2), term: 2.5 }], snapshot: null }, /term of entry 7/],
    ['an unknown entry type', { hardState: null, entries: [{ ...entry(7, 2), type: 'weird' } as unknown as Entry], snapshot: null }, /unknown type/],
    ['data that is not bytes', { hardState: null, entries: [{ ...entry(7, 2), data: 'text' } as unknown as Entry], snapshot: null }, /Uint8Array/],
    ['an empty vote', { hardState: hs(3, 4, ''), entries: [], snapshot: null }, /vote must be/],
    ['a malformed snapshot', { hardState: null, entries: [], snapshot: { meta: { index: 9, term: 2 }, data: new Uint8Array() } as unknown as Snapshot }, /config/],
    ['not a batch', null as unknown as SaveBatch, /needs \{hardState/],
  ];
  for (const [name, batch, message] of bad) {
    await t.rejects(s.save(batch), { name: 'RaftStorageInvariantError', message }, name);
    t.same(plain(s.load()), before, `${name}: state unchanged`);
  }

  const badSnaps: Array<[string, Snapshot, RegExp]> = [
    ['not newer', snapshot(2, 1), /not newer/],
    ['uncommitted', snapshot(5, 2), /uncommitted/],
    ['beyond the log', snapshot(7, 2), /beyond the last stored index/],
    ['wrong term', snapshot(4, 1), /differs from the stored entry's term 2/],
  ];
  for (const [name, snap, message] of badSnaps) {
    await t.rejects(s.saveSnapshot(snap), { name: 'RaftStorageInvariantError', message }, `compaction ${name}`);
  }
  t.same(plain(s.load()), before);

  // Still fully usable afterwards.
  await s.save({ hardState: hs(3, 5, null), entries: [entry(5, 3)], snapshot: null });
  t.same(s.load().entries.map((e) => [e.index, e.term]), [[3, 1], [4, 2], [5, 3]]);
});

t.test('open rejects bad options', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(RaftStorage.open(dir, { segmentBytes: 10 }), RangeError);
  await t.rejects(RaftStorage.open(''), TypeError);
  t.ok(RaftStorageInvariantError);
});
