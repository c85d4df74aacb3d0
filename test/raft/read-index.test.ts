// ReadIndex (dissertation §6.4): reads are confirmed by a quorum's heartbeat replies,
// never by an isolated old leader, and only once the leader committed in its term.
import t from 'tap';
import { ProposalError } from '../../src/raft/errors.js';
import { Cluster, ELECTION_TICKS } from './harness.js';

const SEED = 909;
t.comment(`seed ${SEED}`);

t.test('the leader confirms a read only after a quorum answered a heartbeat', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.proposeAndCommit('a', 'x');
  const a = c.member('a');
  const committed = a.node.log.committed;
  c.hold({ to: 'a', type: 'HeartbeatResp' });
  a.node.readIndex(41);
  c.deliverAll();
  t.same(c.sentWhere({ from: 'a', type: 'Heartbeat' }).map((m) => m.to).sort(), ['b', 'c'], 'a heartbeat went to each voter');
  t.equal(c.held.length, 2, 'both answered');
  t.same(a.readStates, [], 'not confirmed before any answer');
  c.release({ from: 'b' });
  c.deliverAll();
  t.same(a.readStates, [{ ctx: 41, index: committed }], 'b and a are a quorum');
  c.release();
  c.deliverAll();
  t.equal(a.readStates.length, 1, 'confirmed once');

  // Replies to a heartbeat sent before the request do not count.
  c.heal();
  c.hold({ to: 'a', type: 'HeartbeatResp' });
  c.tick(['a']);
  c.tick(['a']); // a periodic heartbeat, answered (held)
  c.deliverAll();
  const stale = c.held.length;
  t.ok(stale >= 2);
  a.node.readIndex(42);
  c.processAll();
  c.release({ where: (m) => c.held.indexOf(m) < stale });
  c.deliverAll();
  t.equal(a.readStates.length, 1, 'older heartbeat replies do not confirm a newer read');
  c.release();
  c.deliverAll();
  t.match(a.readStates[1], { ctx: 42 });
});

t.test('an isolated old leader never confirms a read and reports it failed', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.proposeAndCommit('a', 'x');
  const cut = c.isolate('a');
  c.node('a').readIndex(7);
  c.node('a').readIndex(8);
  const next = c.waitLeader(10 * ELECTION_TICKS, ['b', 'c']);
  t.not(next, 'a');
  c.proposeAndCommit(next, 'written-by-the-new-leader');
  t.same(c.member('a').readStates, [], 'no read confirmed by the old leader');
  c.tickUntil(() => c.node('a').role !== 'leader', 2 * ELECTION_TICKS, ['a']);
  t.same(c.member('a').failedReads, [7, 8], 'both reads failed once it stepped down');
  t.same(c.member('a').readStates, []);
  c.unfilter(...cut);
  c.ticks(ELECTION_TICKS);
  t.same(c.member('a').readStates, [], 'still nothing after rejoining');
  t.throws(() => c.node('a').readIndex(9), { code: 'not-leader', leader: next });
});

t.test('an old leader deposed by a newer term fails its pending reads', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.hold({ to: 'a', type: 'HeartbeatResp' });
  c.node('a').readIndex(5);
  c.deliverAll();
  c.heal();
  c.held = [];
  c.inject({ type: 'TimeoutNow', from: 'a', to: 'b', term: c.node('a').term });
  c.deliverAll();
  t.same(c.leaders(), ['b']);
  t.same(c.member('a').failedReads, [5]);
  t.same(c.member('a').readStates, []);
});

t.test('a read asked before the new leader committed its no-op waits for it', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.hold({ to: 'a', type: 'AppendResp' });
  c.elect('a');
  const a = c.member('a');
  t.equal(a.node.log.committed, 0, 'the no-op is not committed');
  a.node.readIndex(1);
  c.deliverAll();
  t.same(c.sentWhere({ from: 'a', type: 'Heartbeat' }), [], 'no read heartbeat yet');
  c.ticks(2, ['a']); // periodic heartbeats, answered, confirm nothing either
  t.same(a.readStates, []);
  c.heal();
  c.release();
  c.deliverAll();
  t.equal(a.node.log.committed, 1);
  t.same(a.readStates, [{ ctx: 1, index: 1 }], 'served at the no-op, after a heartbeat round');
});

t.test('a single voter confirms a read at once', async (t) => {
  const c = Cluster.fresh(['a'], SEED);
  c.tickUntil(() => c.node('a').role === 'leader', 2 * ELECTION_TICKS);
  c.proposeAndCommit('a', 'x');
  const a = c.member('a');
  a.node.readIndex(3);
  t.ok(a.node.hasReady());
  const rd = a.node.ready();
  t.same(rd.readStates, [{ ctx: 3, index: 2 }]);
  t.same(rd.messages, []);
  a.node.advance();
});

t.test('a follower refuses reads with not-leader and names the leader', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  let err: unknown;
  try {
    c.node('b').readIndex(1);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof ProposalError);
  t.match(err, { code: 'not-leader', leader: 'a' });
  t.throws(() => c.node('c').propose(new Uint8Array(1)), { code: 'not-leader', leader: 'a' });
});
