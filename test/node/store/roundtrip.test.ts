import t from 'tap';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { NodeStore, RangeNotSatisfiableError, StoreArgumentError } from '../../../src/node/store/index.js';
import type { StoreDb } from '../../../src/node/store/index.js';
import { KeyError } from '../../../src/common/keys.js';
import { KiB, one, pieces, prng, randomInt, rawKeys, readAll, seededBytes, seedFor, sha256hex, tempDir, tempStore } from './helpers.js';

const seed = seedFor(t);
const rand = prng(seed);

const layouts = [
  { name: 'default layout', options: {}, inline: 64 * KiB, chunk: 256 * KiB },
  { name: 'tiny layout', options: { inlineLimit: 100, chunkSize: 1000, batchBytes: 3000 }, inline: 100, chunk: 1000 },
];

for (const layout of layouts) {
  t.test(`round trips, ${layout.name}`, async (t) => {
    const { store, dir } = await tempStore(t, layout.options);
    const { inline, chunk } = layout;
    const sizes = [0, 1, inline - 1, inline, inline + 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 7, 9 * chunk + 1];
    const written = new Map<string, Buffer>();
    for (const [i, size] of sizes.entries()) {
      const key = `sol/size-${size}`;
      const data = seededBytes(seed + i, size);
      const meta = await store.putStream(7, key, { contentType: 'application/octet-stream', plainSize: 5 }, pieces(data, rand, chunk * 2));
      t.equal(meta.size, size, `${key}: size`);
      t.equal(meta.digest, sha256hex(data), `${key}: digest`);
      t.equal(meta.version, i + 1, `${key}: version is the partition's next sequence`);
      t.equal(meta.plainSize, 5);
      t.same(await store.head(7, key), meta, `${key}: head`);
      const read = await store.getStream(7, key);
      t.equal(read?.length, size);
      t.ok((await readAll(read)).equals(data), `${key}: bytes`);
      written.set(key, data);
    }
    const chunkRecords = await rawKeys(store, 'c');
    const expectedChunks = sizes.filter((s) => s > inline).reduce((n, s) => n + Math.ceil(s / chunk), 0);
    t.equal(chunkRecords.length, expectedChunks, 'values above the inline limit, and only those, are chunked');

    // Ranges, including ones that cross chunk boundaries and ones that run past the end.
    for (const [key, data] of written) {
      if (data.length === 0) {
        await t.rejects(store.getStream(7, key, { range: { start: 0, end: 0 } }), RangeNotSatisfiableError);
        continue;
      }
      const ranges = [
        { start: 0, end: 0 },
        { start: data.length - 1, end: data.length - 1 },
        { start: 0, end: data.length + 100 },
      ];
      for (let i = 0; i < 5; i++) {
        const start = randomInt(rand, 0, data.length - 1);
        ranges.push({ start, end: randomInt(rand, start, data.length - 1) });
      }
      if (data.length > chunk + 10) ranges.push({ start: chunk - 5, end: chunk + 5 });
      for (const range of ranges) {
        const read = await store.getStream(7, key, { range });
        const expected = data.subarray(range.start, Math.min(range.end, data.length - 1) + 1);
        t.equal(read?.length, expected.length);
        t.ok((await readAll(read)).equals(expected), `${key} ${range.start}-${range.end}`);
      }
      await t.rejects(store.getStream(7, key, { range: { start: data.length, end: data.length + 1 } }), RangeNotSatisfiableError);
      await t.rejects(store.getStream(7, key, { range: { start: 5, end: 2 } }), StoreArgumentError);
    }

    // Reopen: everything is still there, and the sweep found nothing to clean.
    await store.close();
    const again = await NodeStore.open(join(dir, 'db'), layout.options);
    t.teardown(() => again.close());
    t.same(again.recovery, { orphanChunkGroups: 0, orphanChunks: 0, partitionsDropped: [] });
    for (const [key, data] of written) t.ok((await readAll(await again.getStream(7, key))).equals(data), `${key} after reopen`);
    t.equal((await again.partitionState(7))?.lastSeq, sizes.length);
    const next = await again.putStream(7, 'sol/after-reopen', { contentType: 'x' }, one(Buffer.from('z')));
    t.equal(next.version, sizes.length + 1, 'sequence continues after reopen');
  });
}

t.test('overwrites replace the old chunks in the same commit', async (t) => {
  const { store } = await tempStore(t, { inlineLimit: 10, chunkSize: 100 });
  const a = seededBytes(1, 1000);
  const b = seededBytes(2, 250);
  await store.putStream(1, 'k', { contentType: 'a' }, one(a));
  t.equal((await rawKeys(store, 'c')).length, 10);
  await store.putStream(1, 'k', { contentType: 'b' }, one(b));
  t.equal((await rawKeys(store, 'c')).length, 3, 'only the new version has chunks');
  await store.putStream(1, 'k', { contentType: 'c' }, one(Buffer.from('tiny')));
  t.equal((await rawKeys(store, 'c')).length, 0, 'an inline version leaves no chunks');
  t.equal((await readAll(await store.getStream(1, 'k'))).toString(), 'tiny');
});

t.test('bad input is refused with typed errors before anything is written', async (t) => {
  const { store } = await tempStore(t);
  await t.rejects(store.putStream(1, 'a//b', { contentType: 'x' }, one(Buffer.from('v'))), KeyError);
  await t.rejects(store.putStream(-1, 'a', { contentType: 'x' }, one(Buffer.from('v'))), StoreArgumentError);
  await t.rejects(store.putStream(2 ** 32, 'a', { contentType: 'x' }, one(Buffer.from('v'))), StoreArgumentError);
  await t.rejects(store.putStream(1, 'a', { contentType: 'x\n' }, one(Buffer.from('v'))), StoreArgumentError);
  await t.rejects(store.putStream(1, 'a', { contentType: 'x', digest: 'ABC' }, one(Buffer.from('v'))), StoreArgumentError);
  await t.rejects(store.putStream(1, 'a', { contentType: 'x' }, one(Buffer.from('v')), { expectVersion: 0 }), StoreArgumentError);
  await t.rejects(store.putStream(1, 'a', { contentType: 'x' }, one(Buffer.from('v')), { seq: 1.5 }), StoreArgumentError);
  await t.rejects(store.head(1, ''), KeyError);
  t.equal(await store.partitionState(1), null, 'nothing written');
  await t.rejects(NodeStore.open(store.db, { chunkSize: 0 }), StoreArgumentError);
  const textDb = new ClassicLevel(join(await tempDir(t), 'text'));
  t.teardown(() => textDb.close());
  await t.rejects(NodeStore.open(textDb as unknown as StoreDb), /keyEncoding and valueEncoding "buffer"/, 'a database with text encodings is refused');
  await t.rejects(NodeStore.open(store.db, { inlineLimit: 2000, chunkSize: 1000 }), StoreArgumentError);
});
