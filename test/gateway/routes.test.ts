// Routing and the operator views: the route of a key follows the partition map, nodes /
// cluster / plans describe meta's state, readiness follows meta, metrics count requests,
// and a credential over its rate gets 429.
import t from 'tap';
import { encodeBase64url } from '../../src/crypto/base64url.js';
import { generateClusterSecrets } from '../../src/crypto/secrets.js';
import { signKeyPair } from '../../src/crypto/sodium.js';
import { partitionOf } from '../../src/meta/placement.js';
import type { Route } from '../../src/gateway/map-cache.js';
import { eventually } from '../helpers/processes.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { call, clusterSecrets, startTestGateway, token } from './helpers.js';

t.test('routes, views, readiness, metrics and rate limits', async (t) => {
  const cluster = await startMetaCluster(t, 1);
  const secrets = await clusterSecrets(cluster);
  const gw = await startTestGateway(t, cluster, secrets, { readyWindowMs: 3000 });
  const admin = cluster.token;
  const client = token(secrets, 'client', 'reader');

  let r = await call<Route>(gw.url, '/v1/route?key=sol/earth/moon', { token: client });
  t.equal(r.status, 200, 'a route before any node');
  t.match(r.body, { key: 'sol/earth/moon', partition: partitionOf('sol/earth/moon', 16), primary: null, replicas: [] });

  // Three nodes in three zones, admitted through the gateway.
  for (const [i, zone] of ['z1', 'z2', 'z3'].entries()) {
    const join = await call<{ token: string }>(gw.url, '/v1/tokens', { token: admin, json: { role: 'join', ttl: '5m' } });
    const res = await call(gw.url, '/v1/join', {
      token: join.body.token,
      json: { nodeId: `n${i + 1}`, publicKey: encodeBase64url(signKeyPair().publicKey), url: `http://127.0.0.1:${7401 + i}`, zone, capacity: 100 },
    });
    t.equal(res.status, 201, `n${i + 1} joins`);
  }
  // Joining nodes are learners until their copies finish; complete every move through meta.
  const meta = cluster.client();
  for (const id of ['n1', 'n2', 'n3']) await meta.command({ type: 'node-heartbeat', nodeId: id });
  let { state } = await meta.state();
  const active = state.plans.filter((p) => p.state === 'active');
  t.ok(active.length > 0, 'the joins made plans');
  const firstMove = active[0]!.moves[0]!;
  const progress = await meta.command({ type: 'move-progress', planId: active[0]!.id, partition: firstMove.partition, target: firstMove.target, bytesDone: 50, bytesTotal: 100 });
  t.ok(progress.ok, 'a move reports progress');
  const plans = await eventually('plan progress in /v1/plans', async () => {
    const a = await call<{ plans: { id: string; state: string; progress: { bytesDone: number; movesTotal: number }; moves: unknown[] }[] }>(gw.url, '/v1/plans', { token: admin });
    const p = a.body.plans.find((x) => x.id === active[0]!.id);
    return p && p.progress.bytesDone === 50 ? a.body.plans : undefined;
  });
  t.match(plans.find((p) => p.id === active[0]!.id), { state: 'active', moves: [{ bytesDone: 50, bytesTotal: 100 }] }, 'plans show moves with bytes');
  t.equal((await call(gw.url, '/v1/plans', { token: token(secrets, 'join') })).status, 403, 'a join token sees no plans');
  const summaryBefore = await call<{ partitions: { underReplicated: number } }>(gw.url, '/v1/cluster', { token: client });
  t.equal(summaryBefore.body.partitions.underReplicated, 16, 'one replica per partition so far: all under-replicated');
  for (const plan of active) {
    for (const move of plan.moves) {
      const done = await meta.command({ type: 'move-done', planId: plan.id, partition: move.partition, target: move.target });
      t.ok(done.ok, `move of partition ${move.partition} to ${move.target} done`) || t.comment(JSON.stringify(done));
    }
  }
  state = (await meta.state()).state;
  const route = await eventually('the map to place three replicas', async () => {
    const a = await call<Route>(gw.url, '/v1/route?key=sol/earth/moon', { token: client });
    return a.body.mapVersion === state.version ? a.body : undefined;
  });
  const record = state.partitions[route.partition]!;
  t.equal(route.replicas.length, 3, 'three replicas');
  t.equal(route.epoch, record.epoch, 'epoch from meta');
  t.equal(route.primary?.id, record.primary, 'primary from meta');
  t.equal(route.primary?.url, state.nodes[record.primary!]!.url, 'with its url');
  t.same(route.replicas.map((n) => n.id), record.replicas, 'replicas from meta');
  t.same(route.replicas.map((n) => n.url), record.replicas.map((id) => state.nodes[id]!.url), 'with their urls');
  t.equal(gw.context.mapCache.routeFor('sol/earth/moon').partition, route.partition, 'mapCache.routeFor agrees');

  for (const [what, query, rule] of [
    ['leading slash', 'key=/sol', /empty-segment/],
    ['double slash', 'key=sol//earth', /empty-segment/],
    ['control character', 'key=sol%01earth', /control-character/],
    ['too long', `key=${'a'.repeat(1025)}`, /too-long/],
    ['empty', 'key=', /empty/],
  ] as const) {
    r = await call(gw.url, `/v1/route?${query}`, { token: client });
    t.equal(r.status, 400, `${what}: 400`);
    t.equal(r.body.error?.code, 'invalid-key');
    t.match(r.body.error?.message, rule, `${what}: names the rule`);
  }
  t.equal((await call(gw.url, '/v1/route', { token: client })).status, 400, 'no key: 400');
  t.equal((await call(gw.url, '/v1/route?key=a&key=b', { token: client })).status, 400, 'two keys: 400');
  t.equal((await call(gw.url, '/v1/route?key=a', { token: token(secrets, 'node', 'n1') })).status, 403, 'nodes do not route');

  const map = await call<{ partitions: unknown[]; nodes: unknown[] }>(gw.url, '/v1/map', { token: client });
  t.equal(map.body.partitions.length, 16, 'the whole map');
  t.equal(map.body.nodes.length, 3);

  const nodes = await call<{ nodes: { id: string; state: string; zone: string; partitions: { replica: number } }[] }>(gw.url, '/v1/nodes', { token: client });
  t.same(nodes.body.nodes.map((n) => n.id), ['n1', 'n2', 'n3'], 'nodes, by id');
  t.same(nodes.body.nodes.map((n) => n.state), ['up', 'up', 'up'], 'all up');
  t.equal(nodes.body.nodes.reduce((s, n) => s + n.partitions.replica, 0), 48, '16 partitions x 3 replicas');
  const view = await call<Record<string, unknown>>(gw.url, '/v1/cluster', { token: token(secrets, 'sentinel') });
  t.equal(view.status, 200);
  t.match(view.body, {
    clusterId: state.settings!.clusterId,
    mapVersion: state.version,
    meta: { leader: 'm1', members: [{ id: 'm1', role: 'voter' }] },
    nodes: { total: 3, byState: { up: 3 } },
    partitions: { total: 16, underReplicated: 0, withoutPrimary: 0 },
    plans: { active: 0 },
  }, 'cluster summary');

  r = await call(gw.url, '/readyz', { token: client });
  t.equal(r.status, 200, 'ready');
  const openapi = await call<{ openapi: string; paths: Record<string, unknown> }>(gw.url, '/v1/openapi.json', { token: client });
  t.equal(openapi.body.openapi, '3.0.3', 'the API document is served');
  t.equal((await call(gw.url, '/healthz')).status, 200, 'healthz is anonymous');
  t.equal((await call(gw.url, '/readyz')).status, 401, 'readyz needs a credential');

  const metrics = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } });
  const text = await metrics.text();
  t.equal(metrics.status, 200);
  t.match(text, /opera_gateway_requests_total\{route="\/v1\/route",method="GET",status="200"\} \d+/, 'requests per route');
  t.match(text, /opera_gateway_request_duration_seconds_bucket\{route="\/v1\/route",method="GET",le="0.1"\} \d+/, 'latency per route');
  t.match(text, new RegExp(`opera_gateway_map_version ${state.version}`), 'map version');
  t.match(text, /opera_gateway_live_store_errors_total/, 'LiveStore errors');
  t.notMatch(text, /opera1\./, 'no credential in the metrics');
  t.equal((await call(gw.url, '/metrics', { token: client })).status, 403, 'clients do not read metrics');

  // Rate limit: a gateway with a tiny bucket.
  const tight = await startTestGateway(t, cluster, secrets, { limits: { rate: { burst: 5, perSecond: 0.5 } } });
  const burst = await Promise.all(Array.from({ length: 8 }, () => call(tight.url, '/v1/whoami', { token: client })));
  const limited = burst.filter((a) => a.status === 429);
  t.equal(burst.filter((a) => a.status === 200).length, 5, 'the burst passes');
  t.equal(limited.length, 3, 'then 429');
  t.equal(limited[0]!.body.error?.code, 'rate-limited');
  t.ok(Number(limited[0]!.headers.get('retry-after')) >= 1, 'with Retry-After');
  t.equal((await call(tight.url, '/v1/whoami', { token: admin })).status, 200, 'another credential has its own bucket');

  // Readiness follows meta: stop it and the gateway says not ready.
  await cluster.kill('m1');
  await eventually('readyz to turn 503', async () => {
    const a = await call<{ reasons: string[] }>(gw.url, '/readyz', { token: client });
    return a.status === 503 ? a.body : undefined;
  }, 15_000);
  t.pass('not ready once meta stops answering');
  r = await call(gw.url, '/v1/route?key=sol/earth', { token: client });
  t.equal(r.status, 200, 'routing still answers from the cached map');
  r = await call(gw.url, '/v1/cluster', { token: client });
  t.equal(r.status, 503, 'views that need meta: 503');
  t.equal(r.headers.get('retry-after'), '1');
});

t.test('a gateway whose meta never answers is not ready', async (t) => {
  const secrets = generateClusterSecrets();
  const gw = await startTestGateway(t, null, secrets, { metaEndpoints: ['http://127.0.0.1:1'] });
  const r = await call<{ ready: boolean; reasons: string[] }>(gw.url, '/readyz', { token: token(secrets, 'admin') });
  t.equal(r.status, 503);
  t.match(r.body.reasons, ['the partition map is not loaded', 'meta has not answered recently']);
  const route = await call(gw.url, '/v1/route?key=a', { token: token(secrets, 'client') });
  t.equal(route.status, 503, 'no map, no route');
  t.equal(route.body.error?.code, 'map-not-loaded');
});
