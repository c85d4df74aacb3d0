// Snapshots: compaction on the leader, InstallSnapshot in chunks (with losses), and a
// follower or a new learner ending with the leader's state.
import t from 'tap';
import { InvariantError } from '../../src/raft/invariant.js';
import type { Message } from '../../src/raft/types.js';
import { bootFromTerms, cfg, Cluster, ELECTION_TICKS, termsOf } from './harness.js';

const SEED = 505;
t.comment(`seed ${SEED}`);

type SnapMsg = Extract<Message, { type: 'Snapshot' }>;
const snapshotsTo = (c: Cluster, to: string): SnapMsg[] =>
  c.sent.filter((m): m is SnapMsg => m.type === 'Snapshot' && m.to === to);

t.test('the leader compacts its log: entries before the snapshot are gone', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  for (let i = 0; i < 10; i++) c.proposeAndCommit('a', `v${i}`);
  const a = c.node('a');
  t.equal(a.log.applied, 11);
  const snap = c.compact('a');
  t.match(snap.meta, { index: 11, term: 1, config: { voters: ['a', 'b', 'c'], learners: [] } });
  t.equal(a.log.firstIndex(), 12);
  t.equal(a.log.lastIndex(), 11);
  t.equal(a.log.termAt(11), 1, 'the snapshot keeps the term of its last index');
  for (const i of [1, 5, 10]) {
    t.equal(a.log.termAt(i), undefined, `index ${i} is gone`);
    t.equal(a.log.entryAt(i), undefined);
  }
  t.throws(() => a.log.slice(5, 11), InvariantError, 'compacted entries cannot be read');
  t.throws(() => a.compact(12, new Uint8Array(0)), InvariantError, 'cannot compact beyond applied');
  a.compact(5, new Uint8Array(0));
  t.equal(a.log.firstIndex(), 12, 'an older snapshot changes nothing');
  // The group keeps working on top of the snapshot.
  c.proposeAndCommit('a', 'after');
  t.same(termsOf(a), [1]);
  t.equal(a.log.entryAt(12)?.term, 1);
});

t.test('a follower that was down gets the snapshot in chunks, one of them lost', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED, { snapshotChunkBytes: 64 });
  c.elect('a');
  c.crash('c');
  for (let i = 0; i < 20; i++) c.proposeAndCommit('a', `value-${i}`);
  const snap = c.compact('a');
  t.equal(snap.meta.index, 21);
  for (let i = 20; i < 25; i++) c.proposeAndCommit('a', `value-${i}`); // after the snapshot
  t.ok(snap.data.byteLength > 3 * 64, `the snapshot (${snap.data.byteLength} bytes) needs several chunks`);

  let lost = 0;
  c.drop({ to: 'c', type: 'Snapshot', where: (m) => m.type === 'Snapshot' && m.offset === 64 && lost++ === 0 });
  c.restart('c');
  c.tickUntil(() => c.member('c').appliedIndex === 26, 6 * ELECTION_TICKS);

  const chunks = snapshotsTo(c, 'c');
  t.equal(lost, 2, 'the chunk at offset 64 was dropped once, then got through');
  t.same(chunks.map((m) => m.offset), [0, 64, 64, 128, 192, 256].filter((o) => o < snap.data.byteLength));
  t.ok(chunks.every((m) => m.chunk.byteLength <= 64 && m.meta.index === 21 && m.total === snap.data.byteLength));
  t.same(chunks.map((m) => m.done), chunks.map((_, i) => i === chunks.length - 1));

  const m = c.member('c');
  const installed = m.readies.filter((rd) => rd.snapshot !== null).map((rd) => rd.snapshot!);
  t.equal(installed.length, 1, 'one Ready carried the snapshot');
  t.same(installed[0]!.meta, snap.meta);
  t.same(Buffer.from(installed[0]!.data), Buffer.from(snap.data), 'reassembled byte for byte');
  t.same(m.disk.snapshot.meta, snap.meta, 'and it was persisted');
  t.equal(m.node.log.firstIndex(), 22);
  t.same(m.state, c.member('a').state, 'same state as the leader');
  t.same(m.state.length, 25);
  t.same(termsOf(m.node), termsOf(c.node('a')));

  // Restarted from its disk (snapshot + later entries), it rebuilds the same state.
  c.crash('c');
  c.restart('c');
  c.ticks(2 * ELECTION_TICKS);
  t.same(c.member('c').state, c.member('a').state, 'same state after a restart');
});

t.test('a new learner joining after compaction is brought up by snapshot', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED, { snapshotChunkBytes: 50 });
  c.elect('a');
  for (let i = 0; i < 10; i++) c.proposeAndCommit('a', `learner-test-${i}`);
  c.compact('a');
  c.add('d', bootFromTerms([], cfg([]))); // knows nothing, not even the members
  c.node('a').proposeConfigChange({ op: 'add-learner', id: 'd' });
  c.deliverAll();
  t.ok(c.node('a').isCaughtUp('d'), 'd caught up');
  c.ticks(2); // a heartbeat tells d the commit index of the config entry
  const d = c.member('d');
  t.equal(d.readies.filter((rd) => rd.snapshot).length, 1);
  t.ok(snapshotsTo(c, 'd').length >= 3, 'in several chunks');
  t.same(d.state, c.member('a').state);
  t.same(d.node.config, { voters: ['a', 'b', 'c'], learners: ['d'] });
  t.equal(d.node.log.committed, c.node('a').log.committed);
});

t.test('a snapshot at or below the follower\'s commit index is refused', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  for (let i = 0; i < 3; i++) c.proposeAndCommit('a', `k${i}`);
  c.ticks(2, ['a']);
  const b = c.node('b');
  t.equal(b.log.committed, 4);
  const meta = { index: 3, term: 1, config: cfg(['a', 'b', 'c']) };
  c.inject({ type: 'Snapshot', from: 'a', to: 'b', term: 1, meta, offset: 0, chunk: new Uint8Array(2), total: 2, done: true });
  t.match(c.sentWhere({ from: 'b', type: 'SnapshotResp' }), [{ accepted: false, index: 4 }]);
  t.equal(b.log.lastIndex(), 4, 'the log is untouched');
  t.equal(c.member('b').readies.filter((rd) => rd.snapshot).length, 0);
});
