import t from 'tap';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { ExportRecord, NodeStore } from '../../../src/node/store/index.js';
import { KeyError } from '../../../src/common/keys.js';
import { StoreArgumentError } from '../../../src/node/store/index.js';
import { one, readAll, sha256hex, sharedDataDir, tempStore } from './helpers.js';

const put = { contentType: 'application/json' };
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function listAll(store: NodeStore, partition: number, prefix: string, limit: number): Promise<string[]> {
  const keys: string[] = [];
  let after: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 100_000) throw new Error('listing does not end');
    const page = await store.list(partition, { prefix, limit, ...(after !== undefined ? { after } : {}) });
    keys.push(...page.items.map((m) => m.key));
    if (page.next === null) return keys;
    after = page.next;
  }
}

/** The records of a partition copy holding `values`, in whatever order `keys` has. */
async function* bulk(partition: number, keys: string[], values: Map<string, Buffer>): AsyncGenerator<ExportRecord> {
  yield { kind: 'partition', partition, epoch: 1, lastSeq: keys.length };
  for (const [i, key] of keys.entries()) {
    const bytes = values.get(key) ?? Buffer.alloc(0);
    const meta = { key, version: i + 1, size: bytes.length, plainSize: null, contentType: put.contentType, digest: sha256hex(bytes), createdAt: 0, deleted: false };
    yield { kind: 'object', meta, inline: bytes };
  }
  yield { kind: 'end', objects: keys.length };
}

const exoplanets = join(sharedDataDir(), 'exoplanet-systems.ndjson.gz');

t.test('listing the real exoplanet keys: byte order, prefixes, pages', { skip: existsSync(exoplanets) ? false : 'no shared data' }, async (t) => {
  const { store } = await tempStore(t);
  const keys: string[] = [];
  const values = new Map<string, Buffer>();
  for await (const line of createInterface({ input: createReadStream(exoplanets).pipe(createGunzip()), crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const { key, value } = JSON.parse(line) as { key: string; value: unknown };
    keys.push(key);
    values.set(key, Buffer.from(JSON.stringify(value)));
  }
  // Bulk-loaded as a partition copy (batched); single puts are covered below.
  await store.importRecords(1, bulk(1, keys, values));
  const sorted = [...keys].sort(byBytes);
  t.ok(keys.some((k) => /[^\x00-\x7f]/.test(k)), 'the data has non-ASCII keys');
  t.ok(keys.some((k) => k.includes('%2F')), "the data has '%2F' keys");
  t.same(await listAll(store, 1, '', 1000), sorted, 'whole partition, in key-byte order');
  t.same(await listAll(store, 1, '', 777), sorted, 'pages of another size give the same listing');
  for (const prefix of ['Cyg/', 'Cyg', 'PsA/α', 'Cep/TOI-1431%2F', 'Dra/KOI-351/', 'Zzz/', 'C']) {
    const expected = sorted.filter((k) => k.startsWith(prefix));
    t.same(await listAll(store, 1, prefix, 250), expected, `prefix ${JSON.stringify(prefix)}: ${expected.length} keys`);
  }
  const cyg = sorted.filter((k) => k.startsWith('Cyg/'));
  const page = await store.list(1, { prefix: 'Cyg/', after: cyg[99], limit: 10 });
  t.same(page.items.map((m) => m.key), cyg.slice(100, 110), 'after is exclusive');
  t.equal(page.next, cyg[109]);
  t.ok((await readAll(await store.getStream(1, 'PsA/α PsA'))).equals(values.get('PsA/α PsA') ?? Buffer.alloc(1)), 'a non-ASCII key reads back');
  t.match(await store.partitionState(1), { objects: keys.length, lastSeq: keys.length });
});

t.test('after, limit and next at the edges', async (t) => {
  const { store } = await tempStore(t, { sync: false });
  const keys = ['a', 'a/b', 'a/b/c', 'a%2Fb', 'a b', 'ab', 'b', 'é', 'z/😀', '日本/東京'];
  for (const key of keys) await store.putStream(0, key, put, one(Buffer.from(key)));
  const sorted = [...keys].sort(byBytes);
  t.same((await store.list(0)).items.map((m) => m.key), sorted);
  t.same(await listAll(store, 0, '', 1), sorted, 'pages of one');
  const exact = await store.list(0, { limit: keys.length });
  t.equal(exact.next, null, 'a page that ends exactly at the end has no next');
  t.same((await store.list(0, { prefix: 'a/' })).items.map((m) => m.key), ['a/b', 'a/b/c']);
  t.same((await store.list(0, { prefix: 'a', after: 'a/b' })).items.map((m) => m.key), sorted.filter((k) => k.startsWith('a') && byBytes(k, 'a/b') > 0));
  t.same((await store.list(0, { prefix: 'b', after: 'a' })).items.map((m) => m.key), ['b'], 'after below the prefix');
  t.same((await store.list(0, { prefix: 'a', after: 'zzz' })).items, [], 'after past the prefix');
  t.same((await store.list(0, { after: '日本/東京' })).items, [], 'after the last key');
  await store.delete(0, 'ab');
  t.same((await store.list(0, { prefix: 'ab' })).items, [], 'tombstones are not listed');
  await t.rejects(store.list(0, { prefix: '/a' }), KeyError);
  await t.rejects(store.list(0, { after: 'a//b' }), KeyError);
  await t.rejects(store.list(0, { limit: 0 }), StoreArgumentError);
  await t.rejects(store.list(0, { limit: 10_001 }), StoreArgumentError);
});

t.test('partitions never bleed into each other', async (t) => {
  const { store } = await tempStore(t, { sync: false, inlineLimit: 10, chunkSize: 64 });
  // 47 and 0x2f2f2f2f encode as '/' bytes, the separator of the layout.
  const partitions = [0, 1, 10, 47, 256, 0x2f2f2f2f, 0xffffffff];
  const keys = ['sol/earth', 'sol/earth/moon', 'sol', 'x'];
  for (const p of partitions) {
    for (const key of keys) await store.putStream(p, key, put, one(Buffer.from(`${p}:${key}:`.repeat(10))));
  }
  for (const p of partitions) {
    t.same((await store.list(p)).items.map((m) => m.key), [...keys].sort(byBytes), `partition ${p} lists its own keys`);
    for (const key of keys) t.equal((await readAll(await store.getStream(p, key))).toString(), `${p}:${key}:`.repeat(10));
    t.match(await store.partitionState(p), { objects: keys.length, lastSeq: keys.length });
  }
  await store.dropPartition(10);
  await store.delete(256, 'sol');
  t.same((await store.list(10)).items, [], 'dropped');
  t.equal(await store.partitionState(10), null);
  for (const p of [1, 47, 0x2f2f2f2f]) t.equal((await store.list(p)).items.length, keys.length, `partition ${p} untouched`);
  t.equal((await store.list(256)).items.length, keys.length - 1);
  const exported: string[] = [];
  for await (const record of store.exportPartition(1)) if (record.kind === 'object') exported.push(record.meta.key);
  t.same(exported, [...keys].sort(byBytes), 'an export holds one partition only');
  t.same((await store.stats()).map((s) => s.partition), partitions.filter((p) => p !== 10));
  t.same((await store.scrub()).corrupt, []);
});
