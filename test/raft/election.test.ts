// Elections: single voter, one leader among three, PreVote, CheckQuorum, the
// up-to-date-log rule and votes made durable before they are announced.
import t from 'tap';
import type { Message } from '../../src/raft/types.js';
import { bootFromTerms, cfg, Cluster, ELECTION_TICKS } from './harness.js';

const SEED = 101;
t.comment(`seed ${SEED}`);

t.test('a single voter elects itself and commits its no-op', async (t) => {
  const c = Cluster.fresh(['a'], SEED);
  const ticks = c.tickUntil(() => c.node('a').role === 'leader', 2 * ELECTION_TICKS);
  t.ok(ticks <= 2 * ELECTION_TICKS, `leader after ${ticks} ticks`);
  const a = c.member('a');
  t.equal(a.node.term, 1);
  t.equal(a.node.leader, 'a');
  t.equal(a.node.log.committed, 1, 'its no-op committed');
  t.same(a.applied.map((e) => [e.index, e.term, e.type]), [[1, 1, 'noop']]);
  t.same(a.disk.hard, { term: 1, vote: 'a', commit: 1 });
  t.same(c.sent, [], 'nobody to talk to');
});

t.test('three members elect exactly one leader that everyone follows', async (t) => {
  for (const seed of [SEED, SEED + 1, SEED + 2, SEED + 3]) {
    const c = Cluster.fresh(['a', 'b', 'c'], seed);
    const leadersByTerm = new Map<number, Set<string>>();
    const watch = (): void => {
      for (const id of c.leaders()) {
        const term = c.node(id).term;
        leadersByTerm.set(term, (leadersByTerm.get(term) ?? new Set()).add(id));
      }
    };
    let leader: string | undefined;
    for (let i = 0; i < 10 * ELECTION_TICKS; i++) {
      c.ticks(1);
      watch();
      leader ??= c.leader();
    }
    if (leader === undefined) return t.fail(`seed ${seed}: no leader`);
    for (const [term, ids] of leadersByTerm) t.equal(ids.size, 1, `seed ${seed}: one leader in term ${term}`);
    t.same(c.leaders(), [leader], `seed ${seed}: ${leader} is still the only leader`);
    const term = c.node(leader).term;
    for (const id of c.ids()) {
      t.equal(c.node(id).term, term, `seed ${seed}: ${id} in term ${term}`);
      t.equal(c.node(id).leader, leader, `seed ${seed}: ${id} follows ${leader}`);
    }
  }
});

t.test('PreVote: a partitioned follower does not raise its term nor depose the leader', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  const term = c.node('a').term;
  const cut = c.isolate('c');
  let campaigns = 0;
  let maxTerm = 0;
  for (let i = 0; i < 10 * ELECTION_TICKS; i++) {
    c.ticks(1);
    if (c.node('c').role === 'pre-candidate') campaigns++;
    maxTerm = Math.max(maxTerm, c.node('c').term);
  }
  t.ok(campaigns > 0, 'c timed out and pre-campaigned');
  t.equal(maxTerm, term, `c stayed in term ${term} for ten election timeouts`);
  t.ok(c.sentWhere({ from: 'c', type: 'PreVote' }).length >= 5, 'c kept asking for pre-votes');
  t.same(c.sentWhere({ from: 'c', type: 'Vote' }), [], 'c never started a real election');
  c.unfilter(...cut);
  c.ticks(3 * ELECTION_TICKS);
  t.same(c.leaders(), ['a'], 'a is still the leader');
  for (const id of c.ids()) {
    t.equal(c.node(id).term, term, `${id} still in term ${term}`);
    t.equal(c.node(id).leader, 'a', `${id} follows a`);
  }
});

t.test('CheckQuorum: a leader cut off from the majority steps down', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  const term = c.node('a').term;
  c.isolate('a');
  // The quorum check runs once per election timeout over the activity seen since the
  // previous check, so the leader gives up at the second check at the latest.
  const took = c.tickUntil(() => c.node('a').role !== 'leader', 2 * ELECTION_TICKS, ['a']);
  t.ok(took > ELECTION_TICKS && took <= 2 * ELECTION_TICKS, `stepped down after ${took} ticks`);
  t.equal(c.node('a').role, 'follower');
  t.equal(c.node('a').leader, null);
  t.equal(c.node('a').term, term, 'stepping down does not raise the term');
  t.same(c.node('a').softState(), { role: 'follower', leader: null, term });
  const next = c.waitLeader(10 * ELECTION_TICKS, ['b', 'c']);
  t.not(next, 'a');
  t.ok(c.node(next).term > term, 'the majority elected a leader of a later term');
});

t.test('CheckQuorum: cut off right after a quorum check, the leader steps down one timeout later', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.ticks(ELECTION_TICKS - 1);
  c.tick(['a']); // the first check happens at this tick, with everyone active...
  t.equal(c.node('a').role, 'leader');
  c.isolate('a'); // ...and the heartbeats it sends right after are lost
  c.deliverAll();
  const took = c.tickUntil(() => c.node('a').role !== 'leader', ELECTION_TICKS, ['a']);
  t.equal(took, ELECTION_TICKS, 'exactly one election timeout without a quorum');
});

// CORE BUG (reported to the lead, not fixed here): losing leadership with nothing else to
// persist or send produces no Ready, so a driver that follows Ready.softState (as types.ts
// documents: "lets the driver fail pending proposals on loss") is not told. hasReady()
// does not look at the soft state. Expected: hasReady() is true right after the step-down
// and the Ready's softState says follower. Observed: hasReady() is false; the last Ready
// still says leader. Same after a leader's own removal commits (it steps down in advance()).
t.test('BUG: stepping down is reported in a Ready', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  c.isolate('a');
  const a = c.node('a');
  for (let i = 0; i < 2 * ELECTION_TICKS && a.role === 'leader'; i++) {
    a.tick();
    if (a.role === 'leader') c.process('a');
  }
  t.equal(a.role, 'follower');
  t.ok(a.hasReady(), 'a Ready announces the loss of leadership');
  if (a.hasReady()) t.match(a.ready().softState, { role: 'follower', leader: null });

  const r = Cluster.fresh(['a', 'b', 'c'], SEED);
  r.elect('a');
  r.node('a').proposeConfigChange({ op: 'remove', id: 'a' });
  r.deliverAll();
  t.equal(r.node('a').role, 'follower', 'a stepped down after its removal committed');
  t.equal(r.member('a').readies.at(-1)!.softState.role, 'follower', 'the driver was told by a Ready');
});

t.test('a member with a less up-to-date log is not elected', async (t) => {
  const config = cfg(['a', 'b', 'c']);
  const c = new Cluster(SEED);
  c.add('a', bootFromTerms([1], config, { term: 2 }));
  c.add('b', bootFromTerms([1, 1, 2], config, { term: 2 }));
  c.add('c', bootFromTerms([1, 1, 2], config, { term: 2 }));
  // a times out alone: both refuse its pre-vote, it never even starts an election.
  c.ticks(5 * ELECTION_TICKS, ['a']);
  t.not(c.node('a').role, 'leader');
  t.equal(c.node('a').term, 2, 'no term was raised');
  t.ok(c.sentWhere({ from: 'a', type: 'PreVote' }).length > 0);
  t.ok(c.sentWhere({ to: 'a', type: 'PreVoteResp' }).every((m) => m.type === 'PreVoteResp' && !m.granted));
  // A real vote request from a is refused too (§5.4.1: lower last term).
  c.inject({ type: 'Vote', from: 'a', to: 'b', term: 3, lastIndex: 1, lastTerm: 1, transfer: false });
  const reply = c.sentWhere({ from: 'b', type: 'VoteResp' }).at(-1);
  t.match(reply, { to: 'a', term: 3, granted: false });
  t.equal(c.node('b').vote, null);
  // Same last term but a shorter log: refused as well.
  c.inject({ type: 'Vote', from: 'a', to: 'c', term: 3, lastIndex: 2, lastTerm: 2, transfer: false });
  t.match(c.sentWhere({ from: 'c', type: 'VoteResp' }).at(-1), { granted: false });
  // With everyone ticking, the leader is one of the up-to-date members.
  const leader = c.waitLeader();
  t.not(leader, 'a');
  c.ticks(3 * ELECTION_TICKS);
  t.same(c.leaders(), [leader]);
});

t.test('a vote is in the hard state of the very Ready that carries the reply', async (t) => {
  const config = cfg(['a', 'b', 'c']);
  const c = new Cluster(SEED);
  for (const id of ['a', 'b', 'c']) c.add(id, bootFromTerms([1, 1], config, { term: 1 }));
  const b = c.node('b');
  b.step({ type: 'Vote', from: 'a', to: 'b', term: 2, lastIndex: 2, lastTerm: 1, transfer: false });
  t.ok(b.hasReady());
  const rd = b.ready();
  const reply = rd.messages.find((m) => m.type === 'VoteResp') as Extract<Message, { type: 'VoteResp' }>;
  t.match(reply, { from: 'b', to: 'a', term: 2, granted: true });
  t.same(rd.hardState, { term: 2, vote: 'a', commit: 0 }, 'persisted together with the reply');
  b.advance();
  t.notOk(b.hasReady(), 'nothing left over');

  // A second candidate in the same term is refused: the vote is taken.
  b.step({ type: 'Vote', from: 'c', to: 'b', term: 2, lastIndex: 2, lastTerm: 1, transfer: false });
  const rd2 = b.ready();
  t.match(rd2.messages, [{ type: 'VoteResp', to: 'c', granted: false }]);
  t.equal(rd2.hardState, null, 'the vote did not change');
  b.advance();

  // The candidate's side: its own vote and new term come with its vote requests.
  const a = c.node('a');
  a.step({ type: 'TimeoutNow', from: 'c', to: 'a', term: 1 });
  const rd3 = a.ready();
  t.same(rd3.hardState, { term: 2, vote: 'a', commit: 0 });
  t.same(rd3.messages.filter((m) => m.type === 'Vote').map((m) => m.to).sort(), ['b', 'c']);
  a.advance();
});

t.test('a restarted member remembers its vote', async (t) => {
  const config = cfg(['a', 'b', 'c']);
  const c = new Cluster(SEED);
  for (const id of ['a', 'b', 'c']) c.add(id, bootFromTerms([1], config, { term: 1 }));
  c.inject({ type: 'Vote', from: 'a', to: 'b', term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
  c.crash('b');
  c.restart('b');
  t.equal(c.node('b').vote, 'a');
  c.inject({ type: 'Vote', from: 'c', to: 'b', term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
  t.match(c.sentWhere({ from: 'b', to: 'c', type: 'VoteResp' }), [{ granted: false }]);
});
