import t from 'tap';
import { PartitionBusyError, PreconditionFailedError, SequenceError, StaleEpochError } from '../../../src/node/store/index.js';
import { encodeState } from '../../../src/node/store/records.js';
import { stateKey } from '../../../src/node/store/layout.js';
import { one, rawKeys, readAll, seededBytes, seedFor, tempStore } from './helpers.js';

const seed = seedFor(t);
const LAYOUT = { inlineLimit: 100, chunkSize: 1000 };
const text = (s: string): AsyncGenerator<Uint8Array> => one(Buffer.from(s));
const put = { contentType: 'text/plain' };

t.test('If-Match and If-None-Match', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const v1 = await store.putStream(2, 'sol/earth', put, text('one'), { expectVersion: 'absent' });
  await t.rejects(store.putStream(2, 'sol/earth', put, text('dup'), { expectVersion: 'absent' }), PreconditionFailedError, 'If-None-Match on an existing key');
  const v2 = await store.putStream(2, 'sol/earth', put, text('two'), { expectVersion: v1.version });
  t.ok(v2.version > v1.version);
  const err = await store.putStream(2, 'sol/earth', put, text('stale'), { expectVersion: v1.version }).catch((e: unknown) => e);
  t.ok(err instanceof PreconditionFailedError, 'If-Match with an old version');
  t.equal((err as PreconditionFailedError).currentVersion, v2.version, 'the error names the current version');
  await t.rejects(store.putStream(2, 'sol/mars', put, text('x'), { expectVersion: 1 }), PreconditionFailedError, 'If-Match on an absent key');
  await t.rejects(store.delete(2, 'sol/earth', { expectVersion: v1.version }), PreconditionFailedError, 'conditional delete');
  t.equal((await readAll(await store.getStream(2, 'sol/earth'))).toString(), 'two', 'failed writes changed nothing');
  // A large value fails its precondition before its bytes are stored.
  await t.rejects(store.putStream(2, 'sol/earth', put, one(seededBytes(seed, 5000)), { expectVersion: 'absent' }), PreconditionFailedError);
  t.same(await rawKeys(store, 'c'), []);
});

t.test('delete writes a tombstone; the key can be re-created', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const v1 = await store.putStream(2, 'hip/71683', put, one(seededBytes(seed, 3000)));
  t.equal((await rawKeys(store, 'c')).length, 3);
  const del = await store.delete(2, 'hip/71683', { expectVersion: v1.version });
  t.same(del, { version: v1.version + 1, existed: true });
  t.same(await rawKeys(store, 'c'), [], 'chunks deleted with the commit');
  t.equal(await store.head(2, 'hip/71683'), null, 'deleted: head says absent');
  t.equal(await store.getStream(2, 'hip/71683'), null);
  const tomb = await store.head(2, 'hip/71683', { includeTombstones: true });
  t.match(tomb, { deleted: true, version: del.version, size: 0 });
  t.same((await store.list(2)).items, [], 'listing hides tombstones');
  t.equal((await store.list(2, { includeTombstones: true })).items.length, 1);
  await t.rejects(store.putStream(2, 'hip/71683', put, text('x'), { expectVersion: del.version }), PreconditionFailedError, 'If-Match never matches a tombstone');
  const again = await store.delete(2, 'hip/71683');
  t.same(again, { version: del.version + 1, existed: false }, 'deleting a deleted key is a new tombstone');
  const v3 = await store.putStream(2, 'hip/71683', put, text('back'), { expectVersion: 'absent' });
  t.equal(v3.version, again.version + 1, 'If-None-Match succeeds on a tombstoned key');
  t.match(await store.partitionState(2), { objects: 1, tombstones: 0, lastSeq: v3.version });
  t.same(await store.delete(2, 'never/was'), { version: v3.version + 1, existed: false });
});

t.test('purgeTombstones removes old tombstones only', async (t) => {
  const { store } = await tempStore(t, { ...LAYOUT, sync: false });
  for (let i = 0; i < 1500; i++) await store.putStream(5, `k/${String(i).padStart(4, '0')}`, put, text(`v${i}`));
  for (let i = 0; i < 1500; i += 2) await store.delete(5, `k/${String(i).padStart(4, '0')}`);
  const cut = (await store.partitionState(5))?.lastSeq ?? 0;
  await store.delete(5, 'k/0001'); // newer than the cut: stays
  t.match(await store.partitionState(5), { objects: 749, tombstones: 751 });
  t.equal(await store.purgeTombstones(5, cut + 1), 750);
  t.match(await store.partitionState(5), { objects: 749, tombstones: 1 });
  t.equal(await store.head(5, 'k/0000', { includeTombstones: true }), null, 'purged');
  t.match(await store.head(5, 'k/0001', { includeTombstones: true }), { deleted: true }, 'a newer tombstone stays');
  t.equal((await store.list(5, { limit: 10_000 })).items.length, 749);
  t.equal(await store.purgeTombstones(5, cut + 1), 0, 'idempotent');
});

t.test('concurrent conditional writes to one key: exactly one wins', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  for (let round = 0; round < 5; round++) {
    const key = `race/${round}`;
    const writers = Array.from({ length: 12 }, (_, i) =>
      store.putStream(3, key, put, one(seededBytes(seed + i, i % 2 === 0 ? 50 : 2500)), { expectVersion: 'absent' }),
    );
    const results = await Promise.allSettled(writers);
    const won = results.filter((r) => r.status === 'fulfilled');
    t.equal(won.length, 1, `round ${round}: one If-None-Match winner`);
    t.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof PreconditionFailedError), 'the others fail the precondition');
    const winner = (won[0] as PromiseFulfilledResult<{ version: number }>).value;
    // Compare-and-set from the winner's version: again one winner.
    const cas = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.putStream(3, key, put, text(`cas ${i}`), { expectVersion: winner.version })),
    );
    t.equal(cas.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: one If-Match winner`);
  }
  t.same((await store.scrub(3)).corrupt, []);
  const chunkGroups = new Set((await rawKeys(store, 'c')).map((k) => k.subarray(0, k.length - 5).toString('hex')));
  const chunked = (await store.list(3)).items.filter((m) => m.size > LAYOUT.inlineLimit).length;
  t.equal(chunkGroups.size, chunked, 'losers left no chunks');
});

t.test('sequence numbers and epochs', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const a = await store.putStream(6, 'a', put, text('a'), { seq: 10 });
  t.equal(a.version, 10, 'a replica keeps the primary\'s sequence');
  await t.rejects(store.putStream(6, 'b', put, text('b'), { seq: 10 }), SequenceError);
  await t.rejects(store.delete(6, 'a', { seq: 3 }), SequenceError);
  t.equal((await store.putStream(6, 'b', put, text('b'))).version, 11, 'without seq: lastSeq + 1');
  t.match(await store.setPartitionState(6, { epoch: 4 }), { epoch: 4, lastSeq: 11 });
  await t.rejects(store.putStream(6, 'c', put, text('c'), { epoch: 3 }), StaleEpochError, 'a write of an old epoch is fenced');
  t.equal((await store.putStream(6, 'c', put, text('c'), { epoch: 4 })).version, 12);
  await t.rejects(store.setPartitionState(6, { epoch: 3 }), StaleEpochError, 'epochs never go back');
  await t.rejects(store.setPartitionState(6, { lastSeq: 5 }), SequenceError);
  t.match(await store.setPartitionState(6, { lastSeq: 20 }), { lastSeq: 20 });
  t.equal((await store.putStream(6, 'd', put, text('d'))).version, 21);
});

t.test('a partition being imported or dropped refuses writes', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  await store.db.put(stateKey(8), encodeState({ epoch: 1, lastSeq: 0, logFloor: 0, objects: 0, bytes: 0, tombstones: 0, status: 'importing' }));
  const err = await store.putStream(8, 'a', put, text('a')).catch((e: unknown) => e);
  t.ok(err instanceof PartitionBusyError);
  t.equal((err as PartitionBusyError).retryable, true);
});
