import t from 'tap';
import { join } from 'node:path';
import { chunkKey, objectKey } from '../../../src/node/store/layout.js';
import { DigestMismatchError, NodeStore, SizeMismatchError } from '../../../src/node/store/index.js';
import { one, prng, rawKeys, readAll, seededBytes, seedFor, sha256hex, tempStore } from './helpers.js';

const seed = seedFor(t);
const LAYOUT = { inlineLimit: 100, chunkSize: 1000, batchBytes: 2500 };

/** Yields `data` in 300-byte pieces, then throws after `failAfter` bytes. */
async function* failing(data: Buffer, failAfter: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += 300) {
    if (offset >= failAfter) throw new Error('client went away');
    yield data.subarray(offset, offset + 300);
  }
}

t.test('an upload whose source fails leaves nothing visible and no chunks', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const data = seededBytes(seed, 20_000);
  for (const failAfter of [0, 50, 900, 5000, 19_000]) {
    await t.rejects(store.putStream(4, 'vir/3c 273', { contentType: 'x' }, failing(data, failAfter)), /client went away/);
    t.equal(await store.head(4, 'vir/3c 273', { includeTombstones: true }), null, `failing after ${failAfter} B: no record`);
    t.same(await rawKeys(store, 'c'), [], `failing after ${failAfter} B: no chunks`);
  }
  t.equal(await store.partitionState(4), null, 'no sequence was spent');
  t.same((await store.list(4)).items, []);
});

t.test('a failed overwrite keeps the old version whole', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const old = seededBytes(seed + 1, 4321);
  const before = await store.putStream(4, 'k', { contentType: 'old' }, one(old));
  await t.rejects(store.putStream(4, 'k', { contentType: 'new' }, failing(seededBytes(seed + 2, 9000), 6000)));
  t.same(await store.head(4, 'k'), before);
  t.ok((await readAll(await store.getStream(4, 'k'))).equals(old));
  t.equal((await rawKeys(store, 'c')).length, 5, 'only the old chunks remain');
});

t.test('digest and size checks abort the write', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const data = seededBytes(seed + 3, 5000);
  const wrong = sha256hex(Buffer.from('something else'));
  await t.rejects(store.putStream(4, 'a', { contentType: 'x', digest: wrong }, one(data)), DigestMismatchError);
  await t.rejects(store.putStream(4, 'a', { contentType: 'x', size: 4999 }, one(data)), SizeMismatchError);
  await t.rejects(store.putStream(4, 'a', { contentType: 'x', size: 5001 }, one(data)), SizeMismatchError);
  await t.rejects(store.putStream(4, 'tiny', { contentType: 'x', digest: wrong }, one(Buffer.from('v'))), DigestMismatchError);
  t.same(await rawKeys(store, 'c'), [], 'no chunks left behind');
  t.same(await rawKeys(store, 'o'), [], 'no records');
  const ok = await store.putStream(4, 'a', { contentType: 'x', digest: sha256hex(data), size: 5000 }, one(data));
  t.equal(ok.digest, sha256hex(data), 'the right digest is accepted');
});

t.test('pieces that are not bytes are refused', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  async function* strings(): AsyncGenerator<Uint8Array> {
    yield Buffer.alloc(2000);
    yield 'text' as unknown as Uint8Array;
  }
  await t.rejects(store.putStream(4, 'a', { contentType: 'x' }, strings()), TypeError);
  t.same(await rawKeys(store, 'c'), []);
});

t.test('the sweep at open removes chunks no record points at, and keeps the rest', async (t) => {
  const { store, dir } = await tempStore(t, LAYOUT);
  const rand = prng(seed);
  const live = seededBytes(seed + 4, 3500);
  const meta = await store.putStream(9, 'cyg/kepler-22', { contentType: 'x' }, one(live));
  // Orphans as a crash would leave them: an upload that never committed (its generation
  // is unknown to any record), and the chunks of a key that has no record at all.
  const db = store.db;
  const orphans = [
    chunkKey(9, 'cyg/kepler-22', 999_999, 0),
    chunkKey(9, 'cyg/kepler-22', 999_999, 1),
    chunkKey(9, 'cyg/ghost', 5, 0),
    chunkKey(10, 'cyg/kepler-22', 1, 0),
  ];
  for (const key of orphans) await db.put(key, seededBytes(Math.floor(rand() * 1e9), 1000));
  t.equal((await rawKeys(store, 'c')).length, 4 + orphans.length);
  await store.close();

  const again = await NodeStore.open(join(dir, 'db'), LAYOUT);
  t.teardown(() => again.close());
  t.same(again.recovery, { orphanChunkGroups: 3, orphanChunks: 4, partitionsDropped: [] });
  t.equal((await rawKeys(again, 'c')).length, 4, 'the live object keeps its chunks');
  t.ok((await readAll(await again.getStream(9, 'cyg/kepler-22'))).equals(live));
  t.same(await again.head(9, 'cyg/kepler-22'), meta);
  // New uploads never reuse a generation seen on disk.
  await again.putStream(9, 'cyg/other', { contentType: 'x' }, one(seededBytes(1, 2000)));
  t.equal((await again.scrub()).corrupt.length, 0);
  t.ok(await again.db.get(objectKey(9, 'cyg/other')));
});
