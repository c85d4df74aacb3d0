import t from 'tap';
import { chunkKey, objectKey } from '../../../src/node/store/layout.js';
import { CorruptObjectError } from '../../../src/node/store/index.js';
import type { NodeStore } from '../../../src/node/store/index.js';
import { one, prng, randomInt, readAll, seededBytes, seedFor, tempStore } from './helpers.js';

const seed = seedFor(t);
const rand = prng(seed);
const LAYOUT = { inlineLimit: 100, chunkSize: 1000 };

/** Flips one random bit of a raw record, straight in the database. */
async function flipBit(store: NodeStore, recordKey: Buffer, from = 0): Promise<void> {
  const value = await store.db.get(recordKey);
  if (value === undefined) throw new Error('no such record');
  const at = randomInt(rand, from, value.length - 1);
  value[at] = (value[at] ?? 0) ^ (1 << randomInt(rand, 0, 7));
  await store.db.put(recordKey, value);
}

t.test('scrub finds bytes changed behind the store\'s back', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const big = await store.putStream(2, 'ori/betelgeuse', { contentType: 'x' }, one(seededBytes(seed, 5500)));
  const small = await store.putStream(2, 'ori/rigel', { contentType: 'x' }, one(seededBytes(seed + 1, 80)));
  const gone = await store.putStream(9, 'cma/sirius', { contentType: 'x' }, one(seededBytes(seed + 2, 2500)));
  const sizeBad = await store.putStream(9, 'cma/adhara', { contentType: 'x' }, one(seededBytes(seed + 3, 2500)));
  await store.putStream(9, 'cma/wezen', { contentType: 'x' }, one(seededBytes(seed + 4, 3000)));
  await store.delete(9, 'cma/wezen');
  t.same(await store.scrub(), { checked: 4, corrupt: [] }, 'a healthy store scrubs clean');

  // The generation is not visible through the API: find each object's chunks on disk.
  const chunksOf = async (partition: number, key: string): Promise<Buffer[]> => {
    const prefix = chunkKey(partition, key, 0, 0).subarray(0, 7 + Buffer.byteLength(key) + 1);
    const out: Buffer[] = [];
    for await (const k of store.db.keys({ gt: prefix, lt: Buffer.concat([prefix, Buffer.from([0xff])]) })) out.push(k);
    return out;
  };
  const bigChunks = await chunksOf(2, 'ori/betelgeuse');
  t.equal(bigChunks.length, 6);
  await flipBit(store, bigChunks[randomInt(rand, 0, 5)] ?? Buffer.alloc(0));
  const smallRecord = await store.db.get(objectKey(2, 'ori/rigel'));
  await flipBit(store, objectKey(2, 'ori/rigel'), (smallRecord?.length ?? 0) - 80); // inside the inline value
  await store.db.del((await chunksOf(9, 'cma/sirius'))[1] ?? Buffer.alloc(0));
  const adharaLast = (await chunksOf(9, 'cma/adhara'))[2] ?? Buffer.alloc(0);
  await store.db.put(adharaLast, Buffer.concat([(await store.db.get(adharaLast)) ?? Buffer.alloc(0), Buffer.from('x')]));

  const report = await store.scrub();
  t.equal(report.checked, 4);
  const byKey = new Map(report.corrupt.map((c) => [c.key, c]));
  t.match(byKey.get('ori/betelgeuse'), { partition: 2, version: big.version, expected: big.digest, reason: 'digest-mismatch' });
  t.not(byKey.get('ori/betelgeuse')?.actual, big.digest);
  t.match(byKey.get('ori/rigel'), { partition: 2, version: small.version, reason: 'digest-mismatch' });
  t.match(byKey.get('cma/sirius'), { partition: 9, version: gone.version, actual: null, reason: 'missing-chunk' });
  t.match(byKey.get('cma/adhara'), { partition: 9, version: sizeBad.version, reason: 'size-mismatch' });
  t.equal(report.corrupt.length, 4);
  t.same((await store.scrub(2)).corrupt.map((c) => c.key).sort(), ['ori/betelgeuse', 'ori/rigel'], 'one partition only');

  // Readers learn of it too: a whole read checks the digest, a gap fails the stream.
  await t.rejects(readAll(await store.getStream(2, 'ori/betelgeuse')), CorruptObjectError);
  await t.rejects(store.getStream(2, 'ori/rigel'), CorruptObjectError);
  await t.rejects(readAll(await store.getStream(9, 'cma/sirius')), CorruptObjectError);
  await t.rejects(readAll(await store.getStream(9, 'cma/adhara')), CorruptObjectError);
});

t.test('scrub reports a record that does not decode', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  await store.putStream(1, 'a', { contentType: 'x' }, one(Buffer.from('fine')));
  await store.db.put(objectKey(1, 'b'), Buffer.from('not a record'));
  t.same((await store.scrub(1)).corrupt, [{ partition: 1, key: 'b', version: null, expected: null, actual: null, reason: 'malformed-record' }]);
  await t.rejects(store.head(1, 'b'), CorruptObjectError);
});
