// Two sentinels sharing a real redis-server, quorum 2, against a real meta group: one
// sentinel cut off from a node (it probes an address where nothing listens) gets nothing
// declared; a node both see dead is declared down, with a repair plan.
import { join } from 'node:path';
import t from 'tap';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import { openLiveStore } from '../../src/gateway/live-store/index.js';
import type { MetaClient } from '../../src/meta/client.js';
import { httpProbe, type ProbeFn } from '../../src/sentinel/probe.js';
import type { SentinelSettings } from '../../src/sentinel/sentinel.js';
import { startSentinel, type RunningSentinel } from '../../src/sentinel/start.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { freePorts } from '../helpers/ports.js';
import { eventually } from '../helpers/processes.js';
import { startRedis } from '../helpers/redis-server.js';
import { metaNodeState, quietLog, registerNodes, settleMoves, startFakeNode } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SETTINGS: SentinelSettings = {
  intervalMs: 200, timeoutMs: 150, suspectAfterMisses: 2, recoverAfterSuccesses: 2, downAfterMs: 1000, minStateMs: 200, quorum: 2, refreshMs: 1000,
};

async function statesOf(client: MetaClient): Promise<Record<string, string>> {
  const { state } = await client.state();
  return Object.fromEntries(Object.values(state.nodes).map((n) => [n.id, n.state]));
}

t.test('two sentinels, quorum 2, sharing Redis', async (t) => {
  const redis = await startRedis(t);
  const cluster = await startMetaCluster(t, 1, {}, { partitions: 16, replication: 3 });
  const client = cluster.client();
  const nodes = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((id) => startFakeNode(t, id)));
  await registerNodes(client, nodes);
  await settleMoves(client);
  const secrets = await loadClusterSecrets(join(cluster.dir, 'secrets.json'));
  const [nowhere] = await freePorts(1);

  // Sentinel "sa" cannot reach n1: it probes a port where nothing listens.
  const cutOff: ProbeFn = (nodeId, url, timeoutMs) => httpProbe(nodeId, nodeId === 'n1' ? `http://127.0.0.1:${nowhere}` : url, timeoutMs);
  const start = async (id: string, probe?: ProbeFn): Promise<RunningSentinel> => {
    const running = await startSentinel({
      id, metaEndpoints: [...cluster.apis.values()], credential: { kind: 'mint', authority: secrets.authority, subject: id },
      settings: SETTINGS, log: quietLog(), liveStoreUrl: redis.url, metaDeadlineMs: 3000, ...(probe ? { probe } : {}),
    });
    t.teardown(() => running.stop());
    return running;
  };
  const a = await start('sa', cutOff);
  const b = await start('sb');
  const store = await openLiveStore(redis.url);
  t.teardown(() => store.close());

  await t.test('one sentinel cut off from a node gets nothing declared', async (t) => {
    await eventually('sa sees n1 down', async () => (a.sentinel.nodes().find((n) => n.id === 'n1')?.health === 'down' ? true : undefined), 20_000);
    const observed = (await store.observations('n1')).map((o) => `${o.sentinelId}:${o.state}`);
    t.same(observed, ['sa:down', 'sb:up'], 'both views are in Redis');
    // Well past the confirmation period: still up, never even suspect.
    for (let i = 0; i < 10; i++) {
      t.equal((await statesOf(client))['n1'], 'up');
      await sleep(200);
    }
    t.equal(a.sentinel.metrics.submissions.size + b.sentinel.metrics.submissions.size, 0, 'no sentinel submitted anything');
  });

  await t.test('a node both see dead is declared down, once', async (t) => {
    await nodes[1]!.kill();
    await eventually('n2 down in meta', async () => ((await metaNodeState(client, 'n2')) === 'down' ? true : undefined), 30_000, 200);
    const observed = (await store.observations('n2')).map((o) => `${o.sentinelId}:${o.state}`);
    t.same(observed, ['sa:down', 'sb:down']);
    const { state } = await client.state();
    t.ok(state.plans.some((p) => p.reason === 'node-down' && p.node === 'n2' && p.moves.length > 0), 'its partitions have a plan');
    const downs = (a.sentinel.metrics.submissions.get('down/ok') ?? 0) + (b.sentinel.metrics.submissions.get('down/ok') ?? 0);
    t.equal(downs, 1, 'exactly one sentinel got it accepted');
    t.same(await statesOf(client), { n1: 'up', n2: 'down', n3: 'up', n4: 'up' });
  });

  await t.test('with the other sentinel gone, a quorum of 2 cannot be reached', async (t) => {
    await b.stop();
    await nodes[2]!.kill();
    await eventually('sa sees n3 down', async () => (a.sentinel.nodes().find((n) => n.id === 'n3')?.health === 'down' ? true : undefined), 20_000);
    // sb's last observation expires (3 intervals + a timeout); sa alone is not a quorum.
    await sleep(1500);
    t.same((await store.observations('n3')).map((o) => `${o.sentinelId}:${o.state}`), ['sa:down']);
    t.equal(await metaNodeState(client, 'n3'), 'up');
  });
});
