// The pure views behind /v1/nodes, /v1/cluster and /v1/plans, and TTL parsing.
import t from 'tap';
import { clusterView, estimate, nodesView, planView } from '../../src/gateway/cluster-view.js';
import { underReplicated } from '../../src/meta/view.js';
import { formatDuration, parseTtl } from '../../src/gateway/ttl.js';
import { emptyState, type MetaState, type NodeRecord, type Plan } from '../../src/meta/types.js';

function node(id: string, state: NodeRecord['state']): NodeRecord {
  return { id, url: `http://${id}:1`, publicKey: id, zone: null, capacity: 1, state, since: 0, lastHeartbeat: null };
}

function sampleState(): MetaState {
  const s = emptyState();
  s.settings = { clusterId: 'c1', partitions: 3, replication: 2, minInsync: 2, repairGraceMs: 0 };
  s.nodes = { a: node('a', 'up'), b: node('b', 'up'), c: node('c', 'suspect') };
  s.partitions = [
    { epoch: 1, primary: 'a', replicas: ['a', 'b'], learners: [] },
    { epoch: 2, primary: 'b', replicas: ['b', 'c'], learners: ['a'] },
    { epoch: 1, primary: null, replicas: [], learners: [] },
  ];
  s.members = { m1: 'http://m1:1' };
  s.version = 7;
  return s;
}

t.test('nodes and cluster summary', async (t) => {
  const s = sampleState();
  const nodes = nodesView(s);
  t.same(nodes.map((n) => [n.id, n.partitions]), [
    ['a', { primary: 1, replica: 1, learner: 1 }],
    ['b', { primary: 1, replica: 2, learner: 0 }],
    ['c', { primary: 0, replica: 1, learner: 0 }],
  ]);
  t.same(underReplicated(s), [1, 2], 'a suspect replica does not count; an empty partition is under-replicated');
  const v = clusterView(s, null);
  t.match(v, { clusterId: 'c1', mapVersion: 7, partitions: { total: 3, underReplicated: 2, withoutPrimary: 1 }, nodes: { total: 3, byState: { up: 2, suspect: 1 } } });
  t.same(v.meta.members, [{ id: 'm1', url: 'http://m1:1', role: null, healthy: null }], 'members from the state when status is unknown');
});

t.test('plan progress and ETA', async (t) => {
  const plan: Plan = {
    id: 'plan-1', reason: 'node-down', node: 'c', created: 1_000, notBefore: 11_000, state: 'active',
    moves: [
      { partition: 0, source: 'c', target: 'a', state: 'done', bytesDone: 400, bytesTotal: 400 },
      { partition: 1, source: 'c', target: 'b', state: 'copying', bytesDone: 200, bytesTotal: 600 },
      { partition: 2, source: 'c', target: 'a', state: 'pending', bytesDone: 0, bytesTotal: 0 },
      { partition: 3, source: 'c', target: 'b', state: 'failed', bytesDone: 10, bytesTotal: 20 },
    ],
  };
  // Copying started at 11 s (the grace period); 610 bytes in 10 s = 61 B/s.
  // Remaining: 400 of move 1, and move 2 assumed the average known size (340).
  const eta = estimate(plan, 21_000);
  t.ok(eta, 'an estimate');
  t.equal(eta!.bytesPerSecond, 61);
  t.equal(eta!.seconds, Math.ceil((400 + 340) / 61));
  const view = planView(plan, 21_000);
  t.same(view.progress, { movesDone: 1, movesTotal: 4, bytesDone: 610, bytesTotal: 1020 });
  t.equal(estimate({ ...plan, state: 'done' }, 21_000), null, 'finished: no ETA');
  t.equal(estimate(plan, 5_000), null, 'still in the grace period: no ETA');
  const fresh = { ...plan, moves: plan.moves.map((m) => ({ ...m, bytesDone: 0, bytesTotal: 0 })) };
  t.equal(estimate(fresh, 21_000), null, 'nothing copied yet: no ETA');
});

t.test('ttl', async (t) => {
  t.equal(parseTtl('90s', 1e9), 90);
  t.equal(parseTtl('30m', 1e9), 1800);
  t.equal(parseTtl('1h', 1e9), 3600);
  t.equal(parseTtl('7d', 1e9), 604800);
  t.equal(parseTtl('45', 1e9), 45);
  t.equal(parseTtl(45, 1e9), 45);
  for (const bad of ['', '0', '1w', '-1h', '1.5h', 'h', ' 1 h', 1.5, 0, -3, null, {}]) {
    t.throws(() => parseTtl(bad, 1e9), `refuses ${JSON.stringify(bad)}`);
  }
  t.throws(() => parseTtl('2d', 86400), /at most 1d/);
  t.equal(formatDuration(86400 * 365), '365d');
  t.equal(formatDuration(90), '90s');
});
