// The situations of figures 7 and 8 of the Raft paper (Ongaro & Ousterhout, 2014).
import t, { type Test } from 'tap';
import type { RaftOptions } from '../../src/raft/node.js';
import type { Message } from '../../src/raft/types.js';
import { bootFromTerms, cfg, Cluster, ELECTION_TICKS, HEARTBEAT_TICKS, termsOf } from './harness.js';

const SEED = 707;
t.comment(`seed ${SEED}`);

t.test('figure 7: every follower case ends with the leader\'s log', async (t) => {
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const cases: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  for (const [name, followerLog] of Object.entries(cases)) {
    const config = cfg(['leader', 'follower', 'third']);
    const c = new Cluster(SEED);
    // Everyone is in term 7: the leader's election makes it term 8, as in the figure.
    c.add('leader', bootFromTerms(leaderLog, config, { term: 7 }));
    c.add('follower', bootFromTerms(followerLog, config, { term: 7 }));
    c.add('third', bootFromTerms(leaderLog, config, { term: 7 }));
    c.elect('leader');
    const leader = c.node('leader');
    t.equal(leader.term, 8, `(${name}) leader of term 8`);
    const expected = [...leaderLog, 8];
    t.same(termsOf(leader), expected, `(${name}) the leader added its term-8 no-op`);
    t.same(termsOf(c.node('follower')), expected, `(${name}) the follower's log equals the leader's`);
    c.ticks(HEARTBEAT_TICKS, ['leader']); // the commit index reaches the follower
    t.equal(c.node('follower').log.committed, 11, `(${name}) and is committed`);
    // The entries themselves, not only their terms, are the leader's.
    for (let i = 1; i <= 11; i++) {
      const a = leader.log.entryAt(i)!;
      const b = c.node('follower').log.entryAt(i)!;
      if (a.type !== b.type || Buffer.compare(a.data, b.data) !== 0) t.fail(`(${name}) entry ${i} differs`);
    }
    const rejections = c.sentWhere({ from: 'follower', type: 'AppendResp', where: (m) => m.type === 'AppendResp' && !m.success });
    t.ok(rejections.length <= 2, `(${name}) repaired after ${rejections.length} rejections`);
  }
});

// Figure 8(c): five members; s1 leads term 4 with [1, 2] in its log while s5 holds [1, 3]
// from its term-3 reign. s1 replicates index 2 (term 2) to a majority but its term-4 no-op
// at index 3 only reaches s2. s5 can still be elected (s3, s4 and s5 vote for it) and would
// overwrite index 2, so index 2 must not count as committed yet.
function figure8(seed: number, faults?: RaftOptions['unsafeTestFaults']): Cluster {
  const config = cfg(['s1', 's2', 's3', 's4', 's5']);
  const c = new Cluster(seed, { maxMsgBytes: 1, unsafeTestFaults: faults }); // one entry per Append
  c.add('s1', bootFromTerms([1, 2], config, { term: 3, commit: 1 }));
  c.add('s2', bootFromTerms([1, 2], config, { term: 3, commit: 1 }));
  c.add('s3', bootFromTerms([1], config, { term: 3, commit: 1 }));
  c.add('s4', bootFromTerms([1], config, { term: 3, commit: 1 }));
  c.add('s5', bootFromTerms([1, 3], config, { term: 3, commit: 1 }));
  c.crash('s5');
  // s3 and s4 get index 2 from s1, but the no-op (index 3) does not reach them.
  c.hold({
    to: ['s3', 's4'],
    where: (m: Message) => m.type === 'Append' && m.entries.some((e) => e.index === 3) && c.node(m.to).log.lastIndex() >= 2,
  });
  c.elect('s1');
  return c;
}

function checkSituation(t: Test, c: Cluster): void {
  t.equal(c.node('s1').term, 4);
  t.same(termsOf(c.node('s1')), [1, 2, 4]);
  t.same(termsOf(c.node('s2')), [1, 2, 4]);
  t.same(termsOf(c.node('s3')), [1, 2]);
  t.same(termsOf(c.node('s4')), [1, 2]);
  t.same(
    ['s2', 's3', 's4'].map((id) => c.node('s1').matchIndexOf(id)),
    [3, 2, 2],
    's1 knows index 2 is on four members, index 3 on two',
  );
}

t.test('figure 8: an entry of an earlier term is not committed by counting replicas', async (t) => {
  const c = figure8(SEED);
  checkSituation(t, c);
  const s1 = c.node('s1');
  t.equal(s1.log.committed, 1, 'index 2 is on a majority but not committed');
  t.same(c.member('s1').applied.map((e) => e.index), [1], 'nothing applied beyond the boot commit');
  c.ticks(2 * HEARTBEAT_TICKS, ['s1']);
  t.equal(s1.log.committed, 1, 'heartbeats change nothing');
  for (const id of ['s2', 's3', 's4']) t.equal(c.node(id).log.committed, 1, `${id} commits nothing`);

  // Once the term-4 entry is on a majority, both commit.
  c.release();
  c.heal();
  c.deliverAll();
  t.equal(s1.log.committed, 3);
  t.same(c.member('s1').applied.map((e) => [e.index, e.term]), [[1, 1], [2, 2], [3, 4]]);
});

t.test('figure 8: an uncommitted index 2 may still be replaced by s5, safely', async (t) => {
  const c = figure8(SEED);
  // s1 and s2 crash as in figure 8(d); s5 comes back, s3 and s4 elect it.
  c.heal(); // the held no-ops stay held: s1 is gone
  c.crash('s1');
  c.crash('s2');
  c.restart('s5');
  const leader = c.waitLeader(20 * ELECTION_TICKS);
  t.equal(leader, 's5');
  t.same(termsOf(c.node('s3')), termsOf(c.node('s5')));
  t.equal(c.node('s3').log.termAt(2), 3, 'index 2 is now the term-3 entry: nobody had applied the term-2 one');
});

t.test('figure 8 with unsafeTestFaults.commitOldTerms: index 2 commits early, and is then lost', async (t) => {
  const c = figure8(SEED, { commitOldTerms: true });
  checkSituation(t, c);
  const s1 = c.node('s1');
  t.equal(s1.log.committed, 2, 'the injected bug commits index 2 by counting');
  t.same(c.member('s1').applied.map((e) => [e.index, e.term]), [[1, 1], [2, 2]], 's1 applied the term-2 entry');
  // Figure 8(d): s1 and s2 crash; s5 is elected by s3, s4 and itself.
  c.heal();
  c.crash('s1');
  c.crash('s2');
  c.restart('s5');
  t.equal(c.waitLeader(20 * ELECTION_TICKS), 's5');
  c.ticks(HEARTBEAT_TICKS);
  const s3 = c.member('s3');
  t.equal(s3.node.log.committed, 3, 's5 committed its own term');
  t.same(s3.applied.map((e) => [e.index, e.term]), [[1, 1], [2, 3], [3, 5]], 's3 applied the term-3 entry at index 2');
  // State Machine Safety is broken: two members applied different entries at index 2.
  t.not(c.member('s1').applied[1]!.term, s3.applied[1]!.term);
});
