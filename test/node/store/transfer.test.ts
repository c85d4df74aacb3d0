import t from 'tap';
import type { ExportRecord, NodeStore } from '../../../src/node/store/index.js';
import { DigestMismatchError, ImportError, PartitionNotEmptyError, SizeMismatchError } from '../../../src/node/store/index.js';
import { one, prng, randomInt, rawKeys, readAll, seededBytes, seedFor, tempStore } from './helpers.js';

const seed = seedFor(t);
const rand = prng(seed);
const SOURCE = { inlineLimit: 100, chunkSize: 1000 };
const TARGET = { inlineLimit: 300, chunkSize: 700, batchBytes: 2000 }; // another layout on purpose

async function fill(store: NodeStore, partition: number): Promise<Map<string, Buffer>> {
  const values = new Map<string, Buffer>();
  for (let i = 0; i < 40; i++) {
    const key = `lyr/kepler-${i}/${i % 3 === 0 ? 'b' : 'c'}`;
    const size = [0, 1, 99, 100, 101, 299, 301, 999, 1000, 1001, 4321][i % 11] ?? 0;
    const data = seededBytes(seed + i, size + randomInt(rand, 0, 3) * (i % 2));
    await store.putStream(partition, key, { contentType: 'application/octet-stream', plainSize: i }, one(data));
    values.set(key, data);
  }
  for (const key of [...values.keys()].filter((_, i) => i % 7 === 0)) {
    await store.delete(partition, key);
    values.delete(key);
  }
  return values;
}

async function collect(records: AsyncIterable<ExportRecord>): Promise<ExportRecord[]> {
  const out: ExportRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

async function* replay(records: ExportRecord[], tamper?: (r: ExportRecord, i: number) => ExportRecord | null): AsyncGenerator<ExportRecord> {
  for (const [i, r] of records.entries()) {
    const out = tamper ? tamper(r, i) : r;
    if (out !== null) yield out;
  }
}

t.test('export and import round trip with digest verification', async (t) => {
  const { store: source } = await tempStore(t, SOURCE);
  const values = await fill(source, 12);
  const records = await collect(source.exportPartition(12));
  const sourceState = await source.partitionState(12);
  t.match(records[0], { kind: 'partition', partition: 12, lastSeq: sourceState?.lastSeq });
  t.match(records[records.length - 1], { kind: 'end' });

  const { store: target } = await tempStore(t, TARGET);
  const state = await target.importRecords(12, replay(records));
  t.match(state, { lastSeq: sourceState?.lastSeq, logFloor: sourceState?.lastSeq, objects: values.size, tombstones: sourceState?.tombstones, status: 'active' });
  t.same(state.bytes, sourceState?.bytes);
  const a = (await source.list(12, { includeTombstones: true })).items;
  const b = (await target.list(12, { includeTombstones: true })).items;
  t.same(b, a, 'same metadata: versions (ETags), digests, sizes, tombstones');
  for (const [key, data] of values) t.ok((await readAll(await target.getStream(12, key))).equals(data), key);
  t.same((await target.scrub()).corrupt, []);
  // The copy continues the source's sequence, and can catch up from it.
  t.same(await target.opsSince(12, state.lastSeq), { kind: 'ops', ops: [], lastSeq: state.lastSeq, more: false });
  t.equal((await target.putStream(12, 'new', { contentType: 'x' }, one(Buffer.from('n')))).version, state.lastSeq + 1);
  t.equal((await collect(source.exportPartition(99))).length, 2, 'an empty partition exports as header + end');
});

t.test('a corrupted or malformed copy is refused and leaves nothing', async (t) => {
  const { store: source } = await tempStore(t, SOURCE);
  await fill(source, 3);
  const records = await collect(source.exportPartition(3));
  const firstChunk = records.findIndex((r) => r.kind === 'chunk');
  const firstInline = records.findIndex((r) => r.kind === 'object' && r.inline !== null && r.inline.length > 0);
  const flip = (bytes: Buffer): Buffer => {
    const copy = Buffer.from(bytes);
    const at = randomInt(rand, 0, copy.length - 1);
    copy[at] = (copy[at] ?? 0) ^ (1 << randomInt(rand, 0, 7));
    return copy;
  };
  const cases: Array<[string, (r: ExportRecord, i: number) => ExportRecord | null, unknown]> = [
    ['a flipped bit in a chunk', (r, i) => (i === firstChunk && r.kind === 'chunk' ? { ...r, bytes: flip(r.bytes) } : r), DigestMismatchError],
    ['a flipped bit in an inline value', (r, i) => (i === firstInline && r.kind === 'object' && r.inline ? { ...r, inline: flip(r.inline) } : r), DigestMismatchError],
    ['a missing chunk', (r, i) => (i === firstChunk + 1 ? null : r), ImportError],
    ['a truncated chunk', (r, i) => (i === firstChunk && r.kind === 'chunk' ? { ...r, bytes: r.bytes.subarray(1) } : r), SizeMismatchError],
    ['no end record', (r) => (r.kind === 'end' ? null : r), ImportError],
    ['a wrong object count', (r) => (r.kind === 'end' ? { ...r, objects: r.objects + 1 } : r), ImportError],
    ['another partition', (r) => (r.kind === 'partition' ? { ...r, partition: 4 } : r), ImportError],
    ['no header', (r) => (r.kind === 'partition' ? null : r), ImportError],
    ['a version above lastSeq', (r, i) => (i === 1 && r.kind === 'object' ? { ...r, meta: { ...r.meta, version: 10_000 } } : r), ImportError],
    ['an invalid key', (r, i) => (i === 1 && r.kind === 'object' ? { ...r, meta: { ...r.meta, key: 'a//b' } } : r), ImportError],
  ];
  const { store: target } = await tempStore(t, TARGET);
  for (const [name, tamper, error] of cases) {
    await t.rejects(target.importRecords(3, replay(records, tamper)), error as typeof Error, name);
    t.equal(await target.partitionState(3), null, `${name}: no partition state`);
    t.same((await target.list(3, { includeTombstones: true })).items, [], `${name}: nothing visible`);
    t.same(await rawKeys(target, 'c'), [], `${name}: no chunks`);
  }
  async function* brokenStream(): AsyncGenerator<ExportRecord> {
    yield* replay(records.slice(0, firstChunk + 2));
    throw new Error('connection reset');
  }
  await t.rejects(target.importRecords(3, brokenStream()), /connection reset/);
  t.same(await rawKeys(target, 'o'), [], 'a copy cut short leaves nothing');
  t.match(await target.importRecords(3, replay(records)), { status: 'active' }, 'the intact copy then succeeds');
  await t.rejects(target.importRecords(3, replay(records)), PartitionNotEmptyError, 'import only into an empty partition');
  await target.dropPartition(3);
  t.match(await target.importRecords(3, replay(records)), { status: 'active' }, 'after a drop it can be imported again');
});

t.test('an export is one consistent snapshot while writes go on', async (t) => {
  const { store } = await tempStore(t, SOURCE);
  await fill(store, 5);
  const before = await store.partitionState(5);
  const iterator = store.exportPartition(5)[Symbol.asyncIterator]();
  const first = await iterator.next(); // the snapshot is taken here
  for (let i = 0; i < 10; i++) await store.putStream(5, `lyr/kepler-${i}/b`, { contentType: 'x' }, one(seededBytes(i, 2500)));
  await store.delete(5, 'lyr/kepler-1/c');
  const rest: ExportRecord[] = [first.value as ExportRecord];
  for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) rest.push(r.value);
  const { store: copy } = await tempStore(t, TARGET);
  const state = await copy.importRecords(5, replay(rest));
  t.equal(state.lastSeq, before?.lastSeq, 'the copy is the partition at the lastSeq of the snapshot');
  t.equal(state.objects, before?.objects);
  t.same((await copy.scrub()).corrupt, [], 'no chunk of a later version leaked in');
});
