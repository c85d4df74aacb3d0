import t from 'tap';
import { join } from 'node:path';
import { NodeStore, StoreClosedError } from '../../../src/node/store/index.js';
import { stateKey } from '../../../src/node/store/layout.js';
import { decodeState, encodeState } from '../../../src/node/store/records.js';
import { one, prng, randomInt, rawKeys, readAll, seededBytes, seedFor, tempStore } from './helpers.js';

const seed = seedFor(t);
const LAYOUT = { inlineLimit: 100, chunkSize: 1000, sync: false };

t.test('a reader mid-stream finishes the version it started while the key is overwritten and deleted', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const v1 = seededBytes(seed, 10_000);
  await store.putStream(1, 'tau/aldebaran', { contentType: 'x' }, one(v1));
  const read = await store.getStream(1, 'tau/aldebaran');
  if (read === null) throw new Error('missing');
  const iterator = read.body[Symbol.asyncIterator]();
  const first = await iterator.next();
  await store.putStream(1, 'tau/aldebaran', { contentType: 'x' }, one(seededBytes(seed + 1, 7000)));
  await store.delete(1, 'tau/aldebaran');
  const parts: Buffer[] = [first.value as Buffer];
  for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) parts.push(r.value);
  t.ok(Buffer.concat(parts).equals(v1), 'the old version, whole, from the snapshot');
  t.same(await rawKeys(store, 'c'), [], 'its chunks are gone for everybody else');
  t.equal(await store.getStream(1, 'tau/aldebaran'), null);
});

t.test('readers racing writers always see one whole version', async (t) => {
  const rand = prng(seed);
  const { store } = await tempStore(t, LAYOUT);
  const versions = new Map<string, Buffer>(); // digest-free check: each value names itself
  const valueFor = (n: number): Buffer => {
    const body = seededBytes(n, randomInt(rand, 0, 4000));
    const tag = Buffer.from(`${n}:`.padEnd(12, ' '));
    const value = Buffer.concat([tag, body]);
    versions.set(String(n), value);
    return value;
  };
  await store.putStream(1, 'k', { contentType: 'x' }, one(valueFor(0)));
  let done = false;
  const writer = (async () => {
    for (let n = 1; n <= 60; n++) await store.putStream(1, 'k', { contentType: 'x' }, one(valueFor(n)));
    done = true;
  })();
  let reads = 0;
  const readers = Array.from({ length: 4 }, async () => {
    while (!done) {
      const bytes = await readAll(await store.getStream(1, 'k'));
      const n = bytes.subarray(0, 12).toString().split(':')[0] ?? '';
      if (!versions.get(n)?.equals(bytes)) throw new Error(`read a mix of versions (claims ${n})`);
      reads++;
    }
  });
  await Promise.all([writer, ...readers]);
  t.ok(reads > 0, `${reads} whole reads`);
  t.same((await store.scrub()).corrupt, []);
});

t.test('close() of an unread body releases the snapshot; a closed store refuses calls', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  await store.putStream(1, 'a', { contentType: 'x' }, one(seededBytes(seed, 5000)));
  const read = await store.getStream(1, 'a');
  await read?.close();
  await read?.close();
  await store.close();
  await t.rejects(async () => store.head(1, 'a'), StoreClosedError);
  t.throws(() => store.exportPartition(1), StoreClosedError);
});

t.test('stats follow every write', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  await store.putStream(1, 'a', { contentType: 'x' }, one(seededBytes(1, 500)));
  await store.putStream(1, 'b', { contentType: 'x' }, one(seededBytes(2, 1500)));
  await store.putStream(1, 'a', { contentType: 'x' }, one(seededBytes(3, 50)));
  await store.delete(1, 'b');
  await store.putStream(2, 'a', { contentType: 'x' }, one(seededBytes(4, 7)));
  t.same(
    (await store.stats()).map(({ partition, objects, bytes, tombstones, lastSeq }) => ({ partition, objects, bytes, tombstones, lastSeq })),
    [
      { partition: 1, objects: 1, bytes: 50, tombstones: 1, lastSeq: 4 },
      { partition: 2, objects: 1, bytes: 7, tombstones: 0, lastSeq: 1 },
    ],
  );
});

t.test('open finishes a drop or an import that a crash cut short', async (t) => {
  const { store, dir } = await tempStore(t, LAYOUT);
  for (const p of [3, 4, 5]) {
    for (let i = 0; i < 5; i++) await store.putStream(p, `k/${i}`, { contentType: 'x' }, one(seededBytes(p * 10 + i, 1500)));
  }
  // As a crash would leave them: partition 3 marked 'dropping', 4 'importing'.
  for (const [p, status] of [[3, 'dropping'], [4, 'importing']] as const) {
    const raw = await store.db.get(stateKey(p));
    await store.db.put(stateKey(p), encodeState({ ...decodeState(p, raw ?? Buffer.alloc(0)), status }));
  }
  await store.close();
  const again = await NodeStore.open(join(dir, 'db'), LAYOUT);
  t.teardown(() => again.close());
  t.same(again.recovery.partitionsDropped, [3, 4]);
  for (const p of [3, 4]) {
    t.equal(await again.partitionState(p), null);
    t.same((await again.list(p)).items, []);
  }
  t.equal((await again.list(5)).items.length, 5, 'other partitions untouched');
  t.equal((await rawKeys(again, 'c')).length, 10, 'only partition 5 still has chunks');
});
