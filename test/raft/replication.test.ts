// Log replication: commit on a majority, batching, flow control, recovery from lost
// appends and fast backtracking over a long divergent log.
import t from 'tap';
import type { Message } from '../../src/raft/types.js';
import { bootFromTerms, cfg, Cluster, ELECTION_TICKS, HEARTBEAT_TICKS, termsOf } from './harness.js';

const SEED = 202;
t.comment(`seed ${SEED}`);

type Append = Extract<Message, { type: 'Append' }>;
const appendsTo = (c: Cluster, to: string, since = 0): Append[] =>
  c.sent.slice(since).filter((m): m is Append => m.type === 'Append' && m.to === to && m.entries.length > 0);
const cmd = (i: number): string => `cmd-${String(i).padStart(3, '0')}`;
const fill = (n: number, term: number): number[] => Array<number>(n).fill(term);

t.test('proposals commit on a majority and are applied everywhere in order', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  const cut = c.isolate('c');
  const cmds = Array.from({ length: 10 }, (_, i) => cmd(i));
  for (const p of cmds) c.proposeAndCommit('a', p); // a and b are a majority
  t.same(c.member('a').state, cmds);
  t.same(c.member('b').state, cmds.slice(0, -1), 'b learns the last commit index with the next message');
  c.ticks(HEARTBEAT_TICKS, ['a']);
  t.same(c.member('b').state, cmds, 'a heartbeat carried it');
  t.same(c.member('c').state, [], 'c saw nothing');

  c.isolate('b');
  const lonely = c.propose('a', 'lonely');
  c.deliverAll();
  t.ok(c.node('a').log.committed < lonely.index, 'no majority, no commit');
  t.equal(c.member('a').state.length, 10);

  c.unfilter(...cut);
  c.heal();
  c.ticks(ELECTION_TICKS);
  t.same(c.leaders(), ['a']);
  for (const id of c.ids()) {
    const m = c.member(id);
    t.same(m.state, [...cmds, 'lonely'], `${id} applied every command in order`);
    t.equal(m.node.log.committed, lonely.index);
    t.same(termsOf(m.node), termsOf(c.node('a')));
  }
});

t.test('a follower that lagged gets many entries in one Append, or in maxMsgBytes-sized ones', async (t) => {
  for (const maxMsgBytes of [1 << 20, 100]) {
    const c = Cluster.fresh(['a', 'b', 'c'], SEED, { maxMsgBytes });
    c.elect('a');
    const cut = c.isolate('c');
    for (let i = 0; i < 30; i++) c.proposeAndCommit('a', cmd(i));
    c.unfilter(...cut);
    const since = c.sent.length;
    c.tickUntil(() => c.node('c').log.lastIndex() === 31, 4 * HEARTBEAT_TICKS, ['a']);
    const sent = appendsTo(c, 'c', since);
    const carried = sent.flatMap((m) => m.entries.map((e) => e.index));
    t.same(carried, Array.from({ length: 30 }, (_, i) => i + 2), `maxMsgBytes ${maxMsgBytes}: each entry sent once, in order`);
    if (maxMsgBytes > 1000) {
      t.equal(sent.length, 1, 'a single Append carried all 30 entries');
    } else {
      // Each entry counts its payload plus 24 bytes of overhead: 3 of these fit in 100.
      t.equal(sent.length, 10, 'ten Appends of three entries');
      for (const m of sent) t.ok(m.entries.reduce((n, e) => n + e.data.byteLength + 24, 0) <= maxMsgBytes);
    }
    t.same(c.member('c').state, c.member('a').state);
  }
});

t.test('flow control: at most maxInflightMsgs appends in flight while replies are held', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED, { maxInflightMsgs: 2 });
  c.elect('a'); // b acknowledged the no-op: it is in pipelined replication
  const since = c.sent.length;
  c.hold({ from: 'b', to: 'a', type: 'AppendResp' });
  for (let i = 0; i < 10; i++) c.proposeAndCommit('a', cmd(i)); // a and c commit
  t.equal(appendsTo(c, 'b', since).length, 2, 'two appends carrying entries, no more');
  t.equal(appendsTo(c, 'c', since).length, 10, 'c, whose replies flow, got one per proposal');
  t.equal(c.node('b').log.lastIndex(), 3, 'b holds the no-op and the two entries sent');
  t.equal(c.held.length, 2);

  c.heal();
  const after = c.sent.length;
  c.release();
  c.deliverAll();
  const rest = appendsTo(c, 'b', after);
  t.equal(rest.length, 1, 'the first freed slot carried all the remaining entries');
  t.equal(rest[0]!.entries.length, 8);
  t.same(termsOf(c.node('b')), termsOf(c.node('a')));
  t.same(c.member('b').state, c.member('a').state);
});

t.test('flow control by bytes: maxInflightBytes pauses the pipeline too', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED, { maxInflightBytes: 20 });
  c.elect('a');
  const since = c.sent.length;
  c.hold({ from: 'b', to: 'a', type: 'AppendResp' });
  for (let i = 0; i < 10; i++) c.proposeAndCommit('a', cmd(i));
  // 7-byte payloads: after three appends 21 bytes are in flight, over the 20 allowed.
  t.equal(appendsTo(c, 'b', since).length, 3);
});

t.test('stalled replication recovers: lost appends are resent after heartbeats', async (t) => {
  for (const maxInflightMsgs of [256, 2]) {
    const c = Cluster.fresh(['a', 'b', 'c'], SEED, { maxInflightMsgs });
    c.elect('a');
    const term = c.node('a').term;
    const lost = c.drop({ to: 'b', type: 'Append' });
    for (let i = 0; i < 5; i++) c.proposeAndCommit('a', cmd(i));
    t.equal(c.node('b').log.lastIndex(), 1, 'b missed all five');
    c.unfilter(lost);
    // Nothing more is proposed: only heartbeat replies can reveal the gap.
    const took = c.tickUntil(() => c.node('b').log.committed === 6, 3 * HEARTBEAT_TICKS);
    t.ok(took <= 3 * HEARTBEAT_TICKS, `maxInflightMsgs ${maxInflightMsgs}: b caught up after ${took} ticks`);
    t.same(c.member('b').state, c.member('a').state);
    t.equal(c.node('a').term, term, 'no election was needed');
    t.same(c.leaders(), ['a']);
  }
});

t.test('fast backtracking repairs a long divergent log in a few round trips', async (t) => {
  const cases = [
    // Follower terms the leader never had: each hint skips a whole term.
    { leader: [...fill(5, 1), ...fill(20, 4), ...fill(20, 5)], follower: [...fill(5, 1), ...fill(30, 2), ...fill(30, 3)], most: 2 },
    // The follower's conflicting term exists on the leader: one hint lands on its last index.
    { leader: [...fill(5, 1), ...fill(10, 4), ...fill(20, 5)], follower: [...fill(5, 1), ...fill(40, 4)], most: 1 },
    // A follower far behind: its last index + 1 is the hint.
    { leader: [...fill(5, 1), ...fill(50, 5)], follower: fill(3, 1), most: 1 },
  ];
  for (const [k, { leader, follower, most }] of cases.entries()) {
    const config = cfg(['a', 'b', 'c']);
    const c = new Cluster(SEED + k);
    c.add('a', bootFromTerms(leader, config, { term: 5 }));
    c.add('b', bootFromTerms(leader, config, { term: 5 }));
    c.add('c', bootFromTerms(follower, config, { term: 5 }));
    c.elect('a');
    const rejections = c.sentWhere({ from: 'c', type: 'AppendResp', where: (m) => m.type === 'AppendResp' && !m.success });
    const divergence = Math.max(leader.length, follower.length) - 5;
    t.ok(rejections.length <= most, `case ${k}: ${rejections.length} rejections for ${divergence} divergent entries`);
    t.same(termsOf(c.node('c')), [...leader, 6], `case ${k}: c's log is the leader's`);
    t.equal(c.node('c').log.committed, leader.length + 1);
  }
});
