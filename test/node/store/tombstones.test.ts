// Tombstone retention with an injected clock: the maintenance purge removes a tombstone
// only once it is older than the retention and below the sequence every replica applied;
// a key written again is never touched; and a purged tombstone never lets an old value
// come back on a replica that was behind: it still learns the delete from the op log, and
// one behind the log's floor is told to copy the partition afresh.
import t from 'tap';
import { purgeBound } from '../../../src/node/tombstones.js';
import { applyBatch, buildBatch } from '../../../src/node/replication/ops.js';
import type { NodeStore, PartitionState } from '../../../src/node/store/index.js';
import { encodeOps, OpsReader } from '../../../src/node/wire/ops-codec.js';
import { one, readAll, tempStore } from './helpers.js';

const HOUR = 3_600_000;
const put = { contentType: 'text/plain' };
const text = (s: string): AsyncGenerator<Uint8Array> => one(Buffer.from(s));

function clock(start: number): { now: () => number; advance(ms: number): void } {
  let at = start;
  return { now: () => at, advance: (ms) => void (at += ms) };
}

/** Sends `source`'s ops after the replica's lastSeq to the replica, batch by batch, as a primary's sender does. */
async function catchUp(source: NodeStore, replica: NodeStore, partition: number): Promise<'caught-up' | string> {
  for (let round = 0; round < 100; round++) {
    const from = (await replica.partitionState(partition))?.lastSeq ?? 0;
    const batch = await buildBatch(source, partition, 1, from);
    if (batch.kind === 'empty') return 'caught-up';
    if (batch.kind === 'full-copy-needed') return batch.reason;
    await applyBatch(replica, partition, new OpsReader(encodeOps(batch.header, batch.ops)));
  }
  throw new Error('no end to the catch-up');
}

t.test('the purge waits for the retention and stays below the given sequence', async (t) => {
  const c = clock(1_000_000);
  const { store } = await tempStore(t, { sync: false, now: c.now, tombstoneRetentionMs: 24 * HOUR });
  t.equal(store.tombstoneRetentionMs, 24 * HOUR);
  await store.putStream(1, 'hip/1', put, text('a'));
  await store.putStream(1, 'hip/2', put, text('b'));
  const d1 = await store.delete(1, 'hip/1');
  c.advance(12 * HOUR);
  const d2 = await store.delete(1, 'hip/2');
  const last = (await store.partitionState(1))!.lastSeq;

  c.advance(12 * HOUR - 1);
  t.equal(await store.purgeExpiredTombstones(1, last + 1), 0, 'nothing is a day old yet');
  c.advance(1);
  t.equal(await store.purgeExpiredTombstones(1, d1.version), 0, 'a day old, but not below the bound');
  t.equal(await store.purgeExpiredTombstones(1, last + 1), 1, 'the first delete is a day old');
  t.equal(await store.head(1, 'hip/1', { includeTombstones: true }), null);
  t.match(await store.head(1, 'hip/2', { includeTombstones: true }), { deleted: true, version: d2.version }, 'the younger one stays');
  t.match(await store.partitionState(1), { tombstones: 1, objects: 0 });

  // Written again after the delete: a live value is never purged, whatever its age.
  await store.putStream(1, 'hip/2', put, text('again'));
  c.advance(48 * HOUR);
  t.equal(await store.purgeExpiredTombstones(1, Number.MAX_SAFE_INTEGER), 0);
  t.equal((await readAll(await store.getStream(1, 'hip/2'))).toString(), 'again');
});

t.test('a replica that missed the delete learns it from the op log after the purge', async (t) => {
  const c = clock(5_000_000);
  const { store: primary } = await tempStore(t, { sync: false, now: c.now, tombstoneRetentionMs: HOUR });
  const { store: replica } = await tempStore(t, { sync: false, now: c.now, tombstoneRetentionMs: HOUR });
  await primary.setPartitionState(2, { epoch: 1 });
  await primary.putStream(2, 'hip/7', put, text('old value'));
  await primary.putStream(2, 'hip/8', put, text('kept'));
  t.equal(await catchUp(primary, replica, 2), 'caught-up');
  // The replica falls behind (down, or slow); the primary deletes and, much later, purges.
  await primary.delete(2, 'hip/7');
  await primary.putStream(2, 'hip/9', put, text('new'));
  c.advance(2 * HOUR);
  t.equal(await primary.purgeExpiredTombstones(2, Number.MAX_SAFE_INTEGER), 1);
  t.equal(await primary.head(2, 'hip/7', { includeTombstones: true }), null, 'the primary has no tombstone any more');
  t.ok(await replica.head(2, 'hip/7'), 'the lagging replica still holds the old value');

  t.equal(await catchUp(primary, replica, 2), 'caught-up');
  t.equal(await replica.head(2, 'hip/7'), null, 'the delete reached it from the op log');
  t.equal((await readAll(await replica.getStream(2, 'hip/9'))).toString(), 'new');
  t.same((await replica.list(2)).items.map((i) => i.key), (await primary.list(2)).items.map((i) => i.key), 'same live keys on both');
});

t.test('a replica behind the op log is copied afresh, never patched from tombstones', async (t) => {
  const c = clock(0);
  const { store: primary } = await tempStore(t, { sync: false, now: c.now, tombstoneRetentionMs: HOUR, opLogRetention: 8 });
  const { store: replica } = await tempStore(t, { sync: false, now: c.now });
  await primary.setPartitionState(3, { epoch: 1 });
  await primary.putStream(3, 'hip/1', put, text('old'));
  t.equal(await catchUp(primary, replica, 3), 'caught-up');
  await primary.delete(3, 'hip/1');
  for (let i = 0; i < 40; i++) await primary.putStream(3, `hip/x${i}`, put, text(String(i)));
  c.advance(2 * HOUR);
  t.equal(await primary.purgeExpiredTombstones(3, Number.MAX_SAFE_INTEGER), 1);
  t.equal(await catchUp(primary, replica, 3), 'behind-retention', 'the delete left the log: the replica must be copied from scratch');
});

t.test('purge bounds per role', async (t) => {
  const state = (over: Partial<PartitionState> = {}): PartitionState => ({ epoch: 3, lastSeq: 50, logFloor: 0, objects: 1, bytes: 1, tombstones: 4, status: 'active', ...over });
  const active = { phase: 'active', committedSeq: 40, handingOver: false };
  t.equal(purgeBound({ role: 'primary', state: state(), primary: active }), 41, 'the primary: below what every replica acknowledged');
  t.equal(purgeBound({ role: 'primary', state: state(), primary: { ...active, phase: 'activating' } }), null, 'not while taking over');
  t.equal(purgeBound({ role: 'primary', state: state(), primary: { ...active, handingOver: true } }), null, 'not during a handover');
  t.equal(purgeBound({ role: 'primary', state: state(), primary: null }), null);
  t.equal(purgeBound({ role: 'replica', state: state(), primary: null }), 51, 'a replica: below its own lastSeq');
  t.equal(purgeBound({ role: 'learner', state: state(), primary: null }), null, 'a learner\'s copy is left alone');
  t.equal(purgeBound({ role: 'none', state: state(), primary: null }), null);
  t.equal(purgeBound({ role: 'replica', state: state({ status: 'importing' }), primary: null }), null);
  t.equal(purgeBound({ role: 'replica', state: state({ tombstones: 0 }), primary: null }), null, 'nothing to purge');
  t.equal(purgeBound({ role: 'replica', state: null, primary: null }), null);
});
