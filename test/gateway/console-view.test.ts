// The console's server-side pieces that are pure: Prometheus text as nodes render it,
// the per-second request history, partition health, and the trimming of a live view.
import t from 'tap';
import { maxOf, parsePrometheusText, sumOf } from '../../src/common/prometheus-text.js';
import { RequestHistory } from '../../src/gateway/console/request-history.js';
import { consoleView, metaMembersView, partitionHealth, withRecentTelemetry } from '../../src/gateway/console/view.js';
import { emptyState, type NodeRecord } from '../../src/meta/types.js';

t.test('Prometheus text: samples with labels, comments and junk skipped', async (t) => {
  const samples = parsePrometheusText([
    '# HELP opera_node_replication_lag lag', '# TYPE opera_node_replication_lag gauge',
    'opera_node_replication_lag{partition="1"} 3', 'opera_node_replication_lag{partition="7"} 12',
    'opera_node_stored_bytes 4096', 'opera_x{a="q\\"uote"} 1', 'not a sample', 'opera_y NaN-ish',
  ].join('\n'));
  t.equal(maxOf(samples, 'opera_node_replication_lag'), 12);
  t.equal(sumOf(samples, 'opera_node_stored_bytes'), 4096);
  t.equal(maxOf(samples, 'absent'), null);
  t.same(samples.find((s) => s.name === 'opera_x')?.labels, { a: 'q"uote' });
  t.equal(samples.length, 4);
});

t.test('request history: one point per second, mean and p95, old seconds forgotten', async (t) => {
  const h = new RequestHistory(60);
  const base = 1_000_000_000_000;
  for (let i = 0; i < 19; i++) h.record(base + 100, 0.002, 200);
  h.record(base + 200, 0.4, 503);
  h.record(base + 1500, 0.02, 200);
  const points = h.points(base + 2000, 3);
  t.same(points.map((p) => p.at), [base - 1000, base, base + 1000]);
  t.same(points[0], { at: base - 1000, requests: 0, errors: 0, meanMs: null, p95Ms: null });
  t.equal(points[1]!.requests, 20);
  t.equal(points[1]!.errors, 1);
  t.equal(Math.round(points[1]!.meanMs!), Math.round(((19 * 0.002 + 0.4) / 20) * 1000));
  t.equal(points[1]!.p95Ms, 2.5, '19 of 20 under 2.5 ms: the 95th percentile bucket');
  t.equal(points[2]!.requests, 1);
  // 60 s later the same ring slot holds a new second.
  h.record(base + 60_100, 0.001, 200);
  t.equal(h.points(base + 61_000, 1)[0]!.requests, 1);
  t.equal(h.points(base + 61_000, 60).find((p) => p.at === base)?.requests ?? 0, 0, 'the old second is gone');
});

t.test('partition health and the view', async (t) => {
  const node = (id: string, state: NodeRecord['state']): NodeRecord => ({ id, url: `http://${id}`, publicKey: id, zone: null, capacity: 1, state, since: 0, lastHeartbeat: null });
  const s = emptyState();
  s.settings = { clusterId: 'c', partitions: 4, replication: 3, minInsync: 2, repairGraceMs: 1000 };
  s.nodes = { a: node('a', 'up'), b: node('b', 'up'), c: node('c', 'down'), d: node('d', 'up') };
  s.partitions = [
    { epoch: 1, primary: 'a', replicas: ['a', 'b', 'd'], learners: [] },
    { epoch: 2, primary: 'a', replicas: ['a', 'b', 'c'], learners: [] },
    { epoch: 3, primary: 'a', replicas: ['a', 'b'], learners: ['d'] },
    { epoch: 4, primary: null, replicas: ['c'], learners: [] },
  ];
  t.same(s.partitions.map((p) => partitionHealth(p, s.nodes, 3)), ['replicated', 'under-replicated', 'moving', 'unavailable']);
  const view = consoleView({
    now: 5000, gateway: 'gw', state: s, stateError: null, meta: metaMembersView(null, 'meta down'),
    stats: new Map(), observations: new Map([['c', [{ sentinelId: 's1', state: 'down', atMs: 4000 }]]]),
    telemetry: { requests: [{ at: 1000, requests: 1, errors: 0, meanMs: 1, p95Ms: 1 }, { at: 4000, requests: 2, errors: 0, meanMs: 1, p95Ms: 1 }], samples: [] },
  });
  t.equal(view.nodes.length, 4);
  t.same(view.nodes.find((n) => n.id === 'c')?.sentinels.map((o) => o.state), ['down']);
  t.ok(view.sentinelsVisible);
  t.equal(view.meta.error, 'meta down');
  t.same(withRecentTelemetry(view, 3000).telemetry.requests.map((p) => p.at), [4000], 'a live event carries only the newer points');
});
