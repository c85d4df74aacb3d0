// Broken invariants crash loudly: two leaders in one term, a log asked to cut committed
// entries, and drivers that break the ready/advance contract.
import t from 'tap';
import { InvariantError } from '../../src/raft/invariant.js';
import { RaftLog } from '../../src/raft/log.js';
import { RaftNode } from '../../src/raft/node.js';
import type { Entry } from '../../src/raft/types.js';
import { bootFromTerms, cfg, Cluster, entriesFromTerms } from './harness.js';

const SEED = 1010;
t.comment(`seed ${SEED}`);

const base = { index: 0, term: 0, config: cfg(['a']) };
const entry = (index: number, term: number): Entry => ({ index, term, type: 'command', data: new Uint8Array([index]) });

t.test('a leader hearing from another leader of its own term throws', async (t) => {
  const c = Cluster.fresh(['a', 'b', 'c'], SEED);
  c.elect('a');
  const a = c.node('a');
  const term = a.term;
  t.throws(
    () => a.step({ type: 'Append', from: 'b', to: 'a', term, prevIndex: 1, prevTerm: term, entries: [], commit: 1 }),
    InvariantError,
  );
  t.throws(() => a.step({ type: 'Heartbeat', from: 'c', to: 'a', term, commit: 1, readCtx: 0 }), { name: 'InvariantError', message: /two leaders/ });
  const meta = { index: 1, term, config: cfg(['a', 'b', 'c']) };
  t.throws(() => a.step({ type: 'Snapshot', from: 'b', to: 'a', term, meta, offset: 0, chunk: new Uint8Array(0), total: 0, done: true }), InvariantError);
  // From an older term it is no error: the sender is told the newer term instead.
  t.doesNotThrow(() => a.step({ type: 'Heartbeat', from: 'b', to: 'a', term: term - 1, commit: 0, readCtx: 0 }));
  t.match(a.ready().messages, [{ type: 'AppendResp', to: 'b', term, success: false }]);
  a.advance();
});

t.test('RaftLog refuses to truncate at or below the commit index', async (t) => {
  const log = new RaftLog(base, entriesFromTerms([1, 1, 1, 1]), 2);
  t.equal(log.committed, 2);
  t.throws(() => log.appendFromLeader([entry(2, 2)]), { name: 'InvariantError', message: /conflict at committed index 2/ });
  t.throws(() => log.appendFromLeader([entry(1, 2), entry(2, 2)]), InvariantError);
  t.equal(log.lastIndex(), 4, 'the log is unchanged');
  t.equal(log.termAt(2), 1);
  // Above the commit index a conflict truncates and replaces.
  t.equal(log.appendFromLeader([entry(3, 2)]), 3);
  t.same([log.termAt(3), log.lastIndex()], [2, 3]);
  t.equal(log.appendFromLeader([entry(1, 1), entry(2, 1), entry(3, 2)]), null, 'entries it already has change nothing');
  // A snapshot at or below the commit index cannot replace the log either.
  t.throws(() => log.restore({ index: 2, term: 1, config: cfg(['a']) }), InvariantError);
});

t.test('RaftLog keeps its shape', async (t) => {
  t.throws(() => new RaftLog(base, [entry(1, 1), entry(3, 1)], 0), { message: /log gap/ });
  t.throws(() => new RaftLog(base, [entry(1, 2), entry(2, 1)], 0), { message: /term went back/ });
  const log = new RaftLog(base, entriesFromTerms([1, 1]), 0);
  t.throws(() => log.append([entry(4, 1)]), InvariantError);
  t.throws(() => log.commitTo(3), { message: /beyond last index/ });
  t.throws(() => log.compact(1, 1, cfg(['a'])), { message: /beyond applied/ });
  t.equal(new RaftLog(base, entriesFromTerms([1, 1]), 99).committed, 2, 'a commit index beyond the log is clamped');
});

t.test('the driver contract is enforced', async (t) => {
  const opts = { id: 'a', electionTicks: 10, heartbeatTicks: 2, random: () => 0 };
  const boot = bootFromTerms([], cfg(['a']));
  t.throws(() => new RaftNode({ ...opts, electionTicks: 2 }, boot), { message: /election timeout must exceed heartbeat/ });
  const node = new RaftNode(opts, boot);
  t.throws(() => node.advance(), { message: /advance\(\) without ready\(\)/ });
  for (let i = 0; i < 10; i++) node.tick();
  t.equal(node.role, 'leader');
  node.ready();
  t.notOk(node.hasReady(), 'nothing more until advance()');
  t.throws(() => node.ready(), { message: /ready\(\) called before advance\(\)/ });
  node.advance();
  t.ok(node.hasReady(), 'the no-op commits once it is on disk');
  t.throws(() => node.step({ type: 'Heartbeat', from: 'b', to: 'zz', term: 1, commit: 0, readCtx: 0 }), { message: /delivered to a/ });
});
