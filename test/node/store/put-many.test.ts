// Group commit of many small values: one batch, consecutive versions, per-item
// preconditions, later items of a key replacing earlier ones, the op log a replica reads,
// bad input refused before anything is written, and the unsynced path made durable.
import { join } from 'node:path';
import t from 'tap';
import { NodeStore } from '../../../src/node/store/index.js';
import { one, readAll, seededBytes, sha256hex, tempStore } from './helpers.js';

t.test('putMany writes every accepted item in one commit', async (t) => {
  const { store } = await tempStore(t);
  const p = 3;
  await store.putStream(p, 'sol/earth', { contentType: 'application/json' }, one(Buffer.from('{"old":true}')));
  const items = [
    { key: 'sol/mars', value: seededBytes(1, 300), contentType: 'application/json', plainSize: 200, expectVersion: 'absent' as const },
    { key: 'sol/earth', value: seededBytes(2, 10), contentType: 'application/json', expectVersion: 'absent' as const },
    { key: 'sol/venus', value: seededBytes(3, 0), contentType: 'text/plain' },
    { key: 'sol/mars', value: seededBytes(4, 50), contentType: 'application/json', expectVersion: 1 },
    { key: 'sol/venus', value: seededBytes(5, 20), contentType: 'text/plain' },
  ];
  const out = await store.putMany(p, items);
  t.same(out.results.map((r) => r.ok), [true, false, true, false, true], 'an existing key under absent fails alone, as does a wrong version');
  const failed = out.results[1]!;
  t.ok(!failed.ok && failed.error.currentVersion === 1, 'the failure names the current version');
  t.same(out.results.filter((r) => r.ok).map((r) => (r.ok ? r.meta.version : 0)), [2, 3, 4], 'consecutive versions after the existing one');
  t.equal(out.lastSeq, 4);
  t.equal((await store.partitionState(p))?.lastSeq, 4, 'the partition state moved in the same batch');
  t.same(await readAll(await store.getStream(p, 'sol/mars')), seededBytes(1, 300), 'values read back byte-equal');
  t.same(await readAll(await store.getStream(p, 'sol/venus')), seededBytes(5, 20), 'a later item of a key replaces an earlier one');
  t.equal((await store.head(p, 'sol/mars'))?.digest, sha256hex(seededBytes(1, 300)), 'digest of the stored bytes');
  t.equal((await store.head(p, 'sol/mars'))?.plainSize, 200);
  const ops = await store.opsSince(p, 1);
  t.ok(ops.kind === 'ops' && ops.ops.map((o) => o.kind).join(',') === 'put,superseded,put', `the op log a replica reads (${JSON.stringify(ops.kind === 'ops' ? ops.ops.map((o) => o.kind) : ops)})`);
  t.same((await store.putMany(p, [{ key: 'sol/earth', value: Buffer.alloc(1), contentType: 'x', expectVersion: 'absent' }])).lastSeq, null, 'nothing accepted: nothing written');
  t.equal((await store.partitionState(p))?.lastSeq, 4);

  await t.rejects(store.putMany(p, []), /1 to 1000 items/, 'an empty batch is refused');
  await t.rejects(store.putMany(p, [{ key: 'a//b', value: Buffer.alloc(1), contentType: 'x' }]), /empty/, 'a bad key is refused');
  await t.rejects(store.putMany(p, [{ key: 'big', value: Buffer.alloc(64 * 1024 + 1), contentType: 'x' }]), /at most 65536 bytes/, 'a value over the inline limit is refused');
  await t.rejects(store.putMany(p, [{ key: 'sol/x', value: Buffer.alloc(1), contentType: 'x' }], { epoch: 9 }), /epoch/, 'a stale epoch is refused');
  t.equal((await store.partitionState(p))?.lastSeq, 4, 'refused batches wrote nothing');
});

t.test('writes without their own fsync are made durable by syncPartition', async (t) => {
  const { store, dir } = await tempStore(t);
  for (let seq = 1; seq <= 20; seq++) {
    await store.putStream(7, `hip/${seq}`, { contentType: 'application/json' }, one(seededBytes(seq, 100)), { seq, sync: false });
  }
  await store.syncPartition(7);
  await store.close();
  const reopened = await NodeStore.open(join(dir, 'db'));
  t.teardown(() => reopened.close());
  t.equal((await reopened.partitionState(7))?.lastSeq, 20, 'every write is there after a reopen');
  t.same(await readAll(await reopened.getStream(7, 'hip/20')), seededBytes(20, 100));
  await t.rejects(reopened.putStream(7, 'x', { contentType: 'x' }, one(Buffer.alloc(1)), { sync: 'no' as unknown as boolean }), /sync must be a boolean/);
});
