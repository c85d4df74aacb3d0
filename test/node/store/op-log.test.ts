import t from 'tap';
import type { NodeStore, OpEntry } from '../../../src/node/store/index.js';
import { one, prng, randomInt, rawKeys, readAll, seededBytes, seedFor, tempStore } from './helpers.js';

const seed = seedFor(t);
const LAYOUT = { inlineLimit: 100, chunkSize: 1000, sync: false };

/** Applies the primary's ops after `from` to the replica, as the data plane would. */
async function catchUp(primary: NodeStore, replica: NodeStore, partition: number, from: number): Promise<number> {
  let after = from;
  for (;;) {
    const result = await primary.opsSince(partition, after, { limit: 7 });
    if (result.kind !== 'ops') throw new Error(`cannot catch up: ${result.reason}`);
    for (const op of result.ops) await applyOp(primary, replica, partition, op);
    after = result.ops.at(-1)?.seq ?? after;
    if (!result.more) {
      await replica.setPartitionState(partition, { lastSeq: result.lastSeq });
      return result.ops.length;
    }
  }
}

async function applyOp(primary: NodeStore, replica: NodeStore, partition: number, op: OpEntry): Promise<void> {
  if (op.kind === 'superseded') return;
  if (op.kind === 'delete') {
    await replica.delete(partition, op.key, { seq: op.seq, createdAt: op.createdAt });
    return;
  }
  const { meta } = op;
  const putMeta = { contentType: meta.contentType, plainSize: meta.plainSize, digest: meta.digest, size: meta.size, createdAt: meta.createdAt };
  if (op.inline !== null) {
    await replica.putStream(partition, op.key, putMeta, one(op.inline), { seq: op.seq });
    return;
  }
  const read = await primary.getStream(partition, op.key);
  if (read === null || read.meta.version !== op.seq) throw new Error('replaced meanwhile: ask again');
  await replica.putStream(partition, op.key, putMeta, read.body, { seq: op.seq });
}

t.test('opsSince lists puts, deletes and superseded puts in sequence order', async (t) => {
  const { store } = await tempStore(t, LAYOUT);
  const a1 = await store.putStream(1, 'a', { contentType: 'x' }, one(Buffer.from('a1')));
  const b1 = await store.putStream(1, 'b', { contentType: 'x' }, one(seededBytes(seed, 2500)));
  await store.putStream(1, 'a', { contentType: 'x' }, one(Buffer.from('a2')));
  const del = await store.delete(1, 'b');
  const result = await store.opsSince(1, 0);
  if (result.kind !== 'ops') throw new Error('expected ops');
  t.same(result.ops.map((op) => [op.kind, op.seq, op.key]), [
    ['superseded', a1.version, 'a'],
    ['superseded', b1.version, 'b'],
    ['put', 3, 'a'],
    ['delete', del.version, 'b'],
  ]);
  t.match(result.ops[2], { kind: 'put', meta: { version: 3 }, inline: Buffer.from('a2') });
  t.equal(result.lastSeq, 4);
  t.equal(result.more, false);
  t.same(await store.opsSince(1, 4), { kind: 'ops', ops: [], lastSeq: 4, more: false });
  t.match(await store.opsSince(1, 5), { kind: 'full-copy-needed', reason: 'ahead-of-source' });
  const paged = await store.opsSince(1, 1, { limit: 2 });
  t.match(paged, { kind: 'ops', more: true });
  t.same(paged.kind === 'ops' ? paged.ops.map((op) => op.seq) : [], [2, 3]);
});

t.test('a replica behind by a little catches up from the log alone', async (t) => {
  const rand = prng(seed);
  const { store: primary } = await tempStore(t, LAYOUT);
  const { store: replica } = await tempStore(t, LAYOUT);
  const keys = Array.from({ length: 12 }, (_, i) => `uma/${i}`);
  const randomWrite = async (): Promise<void> => {
    const key = keys[randomInt(rand, 0, keys.length - 1)] ?? 'uma/0';
    if (rand() < 0.2) await primary.delete(1, key);
    else await primary.putStream(1, key, { contentType: 'x' }, one(seededBytes(randomInt(rand, 0, 1e9), randomInt(rand, 0, 3000))));
  };
  for (let i = 0; i < 40; i++) await randomWrite();
  const copied = await replica.importRecords(1, primary.exportPartition(1));
  for (let i = 0; i < 60; i++) await randomWrite();
  const applied = await catchUp(primary, replica, 1, copied.lastSeq);
  t.ok(applied > 0, `${applied} ops applied`);
  t.same((await replica.list(1, { includeTombstones: true })).items, (await primary.list(1, { includeTombstones: true })).items, 'same objects, versions and tombstones');
  for (const key of keys) {
    const p = await primary.getStream(1, key);
    t.same(p === null ? null : await readAll(p), await replica.getStream(1, key).then((r) => (r === null ? null : readAll(r))), key);
  }
  const [ps, rs] = [await primary.partitionState(1), await replica.partitionState(1)];
  t.same({ ...rs, logFloor: 0 }, { ...ps, logFloor: 0 }, 'same sequence and counts');
});

t.test('retention: the log keeps the last N sequence numbers; older means a full copy', async (t) => {
  const { store } = await tempStore(t, { ...LAYOUT, opLogRetention: 16 });
  for (let i = 0; i < 100; i++) await store.putStream(2, `k/${i % 5}`, { contentType: 'x' }, one(Buffer.from(`v${i}`)));
  const state = await store.partitionState(2);
  t.equal(state?.lastSeq, 100);
  t.ok((state?.logFloor ?? 0) >= 100 - 16 - 2 && (state?.logFloor ?? 0) <= 100 - 16, `logFloor ${state?.logFloor}`);
  t.ok((await rawKeys(store, 'l')).length <= 16 + 2, 'old entries are deleted');
  t.match(await store.opsSince(2, 10), { kind: 'full-copy-needed', reason: 'behind-retention', lastSeq: 100 });
  const recent = await store.opsSince(2, 100 - 16);
  t.same(recent.kind === 'ops' ? recent.ops.map((op) => op.seq) : [], Array.from({ length: 16 }, (_, i) => 85 + i));
});
