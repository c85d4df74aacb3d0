// Membership changes, one server at a time: learners, promotion, removal (of the leader
// too), one change in flight at most, and invalid changes refused.
import t from 'tap';
import { ProposalError } from '../../src/raft/errors.js';
import type { ConfigChange } from '../../src/raft/types.js';
import { bootFromTerms, cfg, Cluster, ELECTION_TICKS, HEARTBEAT_TICKS, termsOf } from './harness.js';

const SEED = 606;
t.comment(`seed ${SEED}`);

const refusal = (code: string) => ({ name: 'ProposalError', code });

t.test('a learner receives the log, does not count, never campaigns; promoted, it counts', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  for (let i = 0; i < 3; i++) c.proposeAndCommit('a', `before-${i}`);
  c.add('d', bootFromTerms([], cfg([])));
  const a = c.node('a');
  const add = a.proposeConfigChange({ op: 'add-learner', id: 'd' });
  c.deliverAll();
  t.ok(a.log.committed >= add.index, 'the change committed');
  t.same(a.config, { voters: ['a', 'b', 'c'], learners: ['d'] });
  c.ticks(HEARTBEAT_TICKS, ['a']);
  const d = c.member('d');
  t.same(termsOf(d.node), termsOf(a), 'd has the whole log');
  t.same(d.state, c.member('a').state);
  t.same(d.node.config, a.config);

  // Only a and d hold the next entry: a learner does not make a majority.
  const cut = [...c.isolate('b'), ...c.isolate('c')];
  const lone = c.propose('a', 'a-and-d-only');
  c.deliverAll();
  t.equal(d.node.log.lastIndex(), lone.index, 'd stored it');
  t.ok(a.log.committed < lone.index, 'not committed without a majority of voters');
  c.unfilter(...cut);
  c.ticks(3 * HEARTBEAT_TICKS, ['a']);
  t.ok(a.log.committed >= lone.index, 'committed once b and c got it');

  // The learner never campaigns, however long it hears nothing.
  c.ticks(10 * ELECTION_TICKS, ['d']);
  t.equal(d.node.role, 'follower');
  t.same(c.sentWhere({ from: 'd', type: ['PreVote', 'Vote'] }), []);
  // Nor is it asked for its vote.
  c.inject({ type: 'TimeoutNow', from: 'a', to: 'b', term: a.term });
  c.deliverAll();
  t.same(c.leaders(), ['b']);
  t.same(c.sentWhere({ from: 'b', type: 'Vote' }).map((m) => m.to).sort(), ['a', 'c']);
  t.same(c.sentWhere({ to: 'd', type: ['PreVote', 'Vote'] }), []);
  c.inject({ type: 'TimeoutNow', from: 'b', to: 'd', term: c.node('b').term });
  t.equal(d.node.role, 'follower', 'a learner ignores TimeoutNow');
  t.equal(d.node.term, c.node('b').term);

  // Promoted, d counts: with c cut off, b needs d to reach three of four voters.
  const b = c.node('b');
  b.proposeConfigChange({ op: 'promote', id: 'd' });
  c.deliverAll();
  t.same(b.config, { voters: ['a', 'b', 'c', 'd'], learners: [] });
  const cutC = c.isolate('c');
  const cutA = c.isolate('a');
  const needsD = c.propose('b', 'needs-d');
  c.deliverAll();
  t.ok(b.log.committed < needsD.index, 'b and d are only two of four');
  c.unfilter(...cutA);
  c.ticks(3 * HEARTBEAT_TICKS, ['b']);
  t.ok(b.log.committed >= needsD.index, 'a, b and d are three of four');

  // Remove the voter c (still cut off): the three others commit it.
  const before = c.sent.length;
  const rm = b.proposeConfigChange({ op: 'remove', id: 'c' });
  c.deliverAll();
  t.ok(b.log.committed >= rm.index);
  t.same(b.config, { voters: ['a', 'b', 'd'], learners: [] });
  c.unfilter(...cutC);
  c.ticks(2 * ELECTION_TICKS, ['a', 'b', 'd']);
  t.same(c.sent.slice(before).filter((m) => m.to === 'c'), [], 'nothing is sent to a removed member');
  c.isolate('d');
  c.proposeAndCommit('b', 'a-and-b-are-a-majority-of-three');
});

t.test('one change at a time: a second one is refused while the first is uncommitted', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  const acks = c.hold({ to: 'a', type: 'AppendResp' });
  c.elect('a');
  const a = c.node('a');
  t.equal(a.role, 'leader');
  t.throws(() => a.proposeConfigChange({ op: 'add-learner', id: 'd' }), refusal('config-pending'),
    'not even before the leader committed its no-op');
  c.unfilter(acks);
  c.release();
  c.deliverAll();
  const first = a.proposeConfigChange({ op: 'add-learner', id: 'd' });
  const last = a.log.lastIndex();
  t.throws(() => a.proposeConfigChange({ op: 'add-learner', id: 'e' }), refusal('config-pending'));
  t.throws(() => a.proposeConfigChange({ op: 'remove', id: 'b' }), refusal('config-pending'));
  t.equal(a.log.lastIndex(), last, 'nothing was appended');
  t.doesNotThrow(() => c.proposeAndCommit('a', 'ordinary commands are fine meanwhile'));
  t.ok(a.log.committed >= first.index);
  const second = a.proposeConfigChange({ op: 'add-learner', id: 'e' });
  c.deliverAll();
  t.ok(a.log.committed >= second.index, 'accepted once the first committed');
  t.same(a.config.learners, ['d', 'e']);
});

t.test('a leader that removes itself steps down once the removal commits', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.proposeAndCommit('a', 'x');
  const a = c.node('a');
  const oldTerm = a.term;
  const hold = c.hold({ to: 'a', from: 'c', type: 'AppendResp' });
  const rm = a.proposeConfigChange({ op: 'remove', id: 'a' });
  c.deliverAll();
  t.equal(a.role, 'leader', 'still leading while the removal is not committed (c has not answered)');
  t.equal(a.log.committed, rm.index - 1, 'b alone is not a majority of the new voters {b, c}');
  c.unfilter(hold);
  c.release();
  c.deliverAll();
  t.ok(a.log.committed >= rm.index, 'committed by b and c');
  t.equal(a.role, 'follower', 'and the leader stepped down');
  t.equal(a.leader, null);

  const leader = c.waitLeader(10 * ELECTION_TICKS, ['b', 'c']);
  t.ok(leader === 'b' || leader === 'c', `${leader} leads now`);
  t.ok(c.node(leader).term > oldTerm);
  t.same(c.node(leader).config, { voters: ['b', 'c'], learners: [] });
  const since = c.sent.length;
  c.ticks(5 * ELECTION_TICKS);
  t.equal(a.role, 'follower');
  t.same(c.sent.slice(since).filter((m) => m.from === 'a'), [], 'a, no longer a member, stays silent');
  c.proposeAndCommit(leader, 'y');
  t.same(c.member(leader).state, ['x', 'y']);
});

t.test('invalid changes are refused with invalid-config-change', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  const a = c.node('a');
  const last = a.log.lastIndex();
  const bad: ConfigChange[] = [
    { op: 'add-learner', id: 'b' }, // already a voter
    { op: 'add-learner', id: '' },
    { op: 'promote', id: 'b' }, // a voter, not a learner
    { op: 'promote', id: 'zz' }, // not a member at all
    { op: 'remove', id: 'zz' },
  ];
  for (const change of bad) {
    t.throws(() => a.proposeConfigChange(change), refusal('invalid-config-change'), JSON.stringify(change));
  }
  t.equal(a.log.lastIndex(), last, 'nothing was appended');
  c.node('a').proposeConfigChange({ op: 'add-learner', id: 'l' });
  c.deliverAll();
  t.throws(() => a.proposeConfigChange({ op: 'add-learner', id: 'l' }), refusal('invalid-config-change'), 'already a learner');
  t.throws(() => c.node('b').proposeConfigChange({ op: 'add-learner', id: 'x' }), { code: 'not-leader', leader: 'a' });

  const single = Cluster.fresh(['s'], SEED);
  single.tickUntil(() => single.node('s').role === 'leader', 2 * ELECTION_TICKS);
  const err = (() => {
    try {
      single.node('s').proposeConfigChange({ op: 'remove', id: 's' });
    } catch (e) {
      return e;
    }
    return null;
  })();
  t.ok(err instanceof ProposalError, 'the last voter cannot be removed');
  t.match(err, { code: 'invalid-config-change', message: /last voter/ });
});
