// `opera sentinel start` as a real process against a real meta group, with fake storage
// nodes: a dead node becomes down in meta and meta plans the repair of its partitions;
// once it answers again it is up. Then the usage errors.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import { mintToken } from '../../src/crypto/tokens.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { freePorts } from '../helpers/ports.js';
import { eventually, runOpera, spawnOpera } from '../helpers/processes.js';
import { metaNodeState, registerNodes, settleMoves, startFakeNode } from './helpers.js';

t.test('a dead node is declared down, its partitions get a plan, and it comes back up', async (t) => {
  const cluster = await startMetaCluster(t, 1, {}, { partitions: 16, replication: 3 });
  const client = cluster.client();
  const nodes = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((id) => startFakeNode(t, id)));
  await registerNodes(client, nodes);
  await settleMoves(client);
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnOpera(t, 'sentinel', [
    'sentinel', 'start', '--meta', cluster.dir, '--id', 's1', '--interval', '200ms', '--down-after', '1500ms', '--listen', `127.0.0.1:${port}`,
  ], { OPERA_LOG_LEVEL: 'info' });
  await eventually('the sentinel listening', async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), 30_000);
  t.teardown(() => {
    if (t.passing()) return;
    t.comment(proc.output().slice(-4000));
  });

  const before = (await client.state()).state;
  t.ok(['n1', 'n2', 'n3', 'n4'].every((id) => before.nodes[id]!.state === 'up'), 'all up');
  t.equal(before.plans.filter((p) => p.reason === 'node-down').length, 0);

  await nodes[3]!.kill();
  await eventually('n4 down in meta', async () => ((await metaNodeState(client, 'n4')) === 'down' ? true : undefined), 30_000, 200);
  const { state } = await client.state();
  const plan = state.plans.find((p) => p.reason === 'node-down' && p.node === 'n4');
  t.ok(plan, 'meta made a repair plan');
  const held = state.partitions.filter((p) => p.replicas.includes('n4')).length;
  t.ok(held > 0, `n4 held ${held} partitions`);
  t.equal(plan!.moves.length, held, 'one move per partition n4 held');
  t.ok(plan!.moves.every((m) => m.source === 'n4' && m.target !== 'n4'));
  t.equal(plan!.notBefore - plan!.created, state.settings!.repairGraceMs, 'the copy waits for the repair grace period');
  t.ok(['n1', 'n2', 'n3'].every((id) => state.nodes[id]!.state === 'up'), 'the others stay up');

  // What an operator sees on the sentinel.
  const admin = (await readFile(join(cluster.dir, 'admin.token'), 'utf8')).trim();
  const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
  t.match(metrics, /opera_sentinel_probe_failures_total\{reason="refused"\} [1-9]/);
  t.match(metrics, /opera_sentinel_meta_submissions_total\{state="down",result="ok"\} 1/);
  t.match(metrics, /opera_sentinel_meta_nodes\{state="down"\} 1/);
  t.match(proc.output(), /meta: node n4 is now down/);

  // A node heartbeat is accepted with a node credential.
  const secrets = await loadClusterSecrets(join(cluster.dir, 'secrets.json'));
  const now = Math.floor(Date.now() / 1000);
  const nodeToken = mintToken(secrets.authority, { role: 'node', sub: 'n1', iat: now, exp: now + 600 });
  const beat = await fetch(`${url}/v1/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${nodeToken}` } });
  t.equal(beat.status, 200);
  t.match(await beat.json(), { ok: true, nodeId: 'n1', health: 'up' });

  await nodes[3]!.revive();
  await eventually('n4 up in meta', async () => ((await metaNodeState(client, 'n4')) === 'up' ? true : undefined), 30_000, 200);
  const after = (await client.state()).state;
  const replan = after.plans.find((p) => p.id === plan!.id)!;
  t.ok(replan.state !== 'active' || replan.moves.every((m) => m.state !== 'pending'), 'the repair of a node that came back is cancelled');
});

t.test('usage errors exit 2 with a message', async (t) => {
  const cases: [string[], RegExp][] = [
    [['sentinel', 'start'], /give --meta/],
    [['sentinel', 'start', '--meta', 'http://127.0.0.1:1', '--token', 'x', '--quorum', '2'], /--quorum 2 needs .*--redis/],
    [['sentinel', 'start', '--meta', 'http://127.0.0.1:1', '--token', 'x', '--interval', '5'], /--interval must be a duration/],
    [['sentinel', 'start', '--meta', 'http://127.0.0.1:1'], /--token T .* or --secrets FILE/],
    [['sentinel', 'start', '--meta', 'http://127.0.0.1:1', '--token', 'x', '--listen', '127.0.0.1:0'], /--authority-key/],
    [['sentinel', 'start', '--meta', 'http://127.0.0.1:1', '--token', 'x', '--listen', '127.0.0.1:0', '--authority-key', 'short'], /32-byte/],
    [['sentinel', 'start', '--meta', 'http://127.0.0.1:1', '--token', 'x', '--id', 'has space'], /--id/],
  ];
  const env = { OPERA_TOKEN: '', OPERA_SECRETS: '', OPERA_META: '', OPERA_REDIS: '', OPERA_LISTEN: '' };
  const results = await Promise.all(cases.map(([args]) => runOpera(args, env)));
  cases.forEach(([args, message], i) => {
    t.equal(results[i]!.code, 2, args.join(' '));
    t.match(results[i]!.stderr, message);
  });
});
