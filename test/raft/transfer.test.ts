// Leadership transfer: to an up-to-date follower, to a lagging one (caught up first),
// proposals refused meanwhile, and a transfer to a dead member abandoned.
import t from 'tap';
import { bytes, Cluster, ELECTION_TICKS } from './harness.js';

const SEED = 808;
t.comment(`seed ${SEED}`);

const refusal = (code: string) => ({ name: 'ProposalError', code });

t.test('to an up-to-date follower: it leads the next term at once', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.proposeAndCommit('a', 'x');
  const term = c.node('a').term;
  c.node('a').transferLeadership('b');
  c.deliverAll(); // no tick at all: nobody waits for an election timeout
  t.same(c.leaders(), ['b']);
  t.equal(c.node('b').term, term + 1);
  t.match(c.sentWhere({ type: 'TimeoutNow' }), [{ from: 'a', to: 'b', term }]);
  t.ok(c.sentWhere({ from: 'b', type: 'Vote' }).every((m) => m.type === 'Vote' && m.transfer), 'votes marked as a transfer');
  t.same(c.sentWhere({ from: 'b', type: 'PreVote' }), [], 'no pre-vote round');
  for (const id of ['a', 'c']) t.equal(c.node(id).leader, 'b', `${id} follows b`);
  c.proposeAndCommit('b', 'y');
  t.same(c.member('c').state.slice(0, 1), ['x']);
});

t.test('to a lagging follower: it is caught up first, then takes over', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  const lost = c.drop({ to: 'b', type: 'Append' });
  for (let i = 0; i < 5; i++) c.proposeAndCommit('a', `v${i}`);
  const a = c.node('a');
  t.equal(c.node('b').log.lastIndex(), 1, 'b is behind');
  c.unfilter(lost);
  // Catch b's TimeoutNow to look at b's log at the moment it is sent.
  c.hold({ type: 'TimeoutNow' });
  a.transferLeadership('b');
  t.throws(() => a.propose(bytes('during')), refusal('transferring'), 'proposals are refused during the transfer');
  t.throws(() => a.proposeConfigChange({ op: 'add-learner', id: 'z' }), refusal('transferring'));
  c.tickUntil(() => c.held.length > 0, ELECTION_TICKS - 1, ['a']);
  t.equal(c.node('b').log.lastIndex(), a.log.lastIndex(), 'b had every entry when TimeoutNow was sent');
  t.equal(a.role, 'leader');
  c.heal();
  c.release();
  c.deliverAll();
  t.same(c.leaders(), ['b']);
  t.equal(c.node('a').role, 'follower');
  c.ticks(2);
  t.same(c.member('b').state, ['v0', 'v1', 'v2', 'v3', 'v4']);
});

t.test('a transfer to a dead member is abandoned after an election timeout', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.crash('c');
  const a = c.node('a');
  const term = a.term;
  a.transferLeadership('c');
  c.deliverAll();
  t.match(c.sentWhere({ type: 'TimeoutNow' }), [{ to: 'c' }], 'c looked up to date, TimeoutNow was sent (and lost)');
  for (let i = 1; i < ELECTION_TICKS; i++) {
    c.ticks(1);
    if (i === ELECTION_TICKS - 1) t.throws(() => a.propose(bytes('too-early')), refusal('transferring'), `still refused after ${i} ticks`);
  }
  c.ticks(1);
  t.doesNotThrow(() => c.proposeAndCommit('a', 'again'), 'proposals accepted again after one election timeout');
  t.equal(a.role, 'leader');
  t.equal(a.term, term, 'a kept its term');
});

t.test('transfer requests that are no-ops or invalid', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  const a = c.node('a');
  a.transferLeadership('a');
  t.doesNotThrow(() => c.proposeAndCommit('a', 'to-self-is-a-no-op'));
  t.throws(() => a.transferLeadership('zz'), refusal('invalid-config-change'));
  t.throws(() => c.node('b').transferLeadership('c'), { code: 'not-leader', leader: 'a' });
});
