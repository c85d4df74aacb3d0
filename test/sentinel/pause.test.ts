// Slow and paused nodes against a real meta group: a pause shorter than the confirmation
// period never makes a node down (at most suspect, then up again); a longer one does, and
// so does a node that always answers too late.
import { join } from 'node:path';
import t from 'tap';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import type { MetaClient } from '../../src/meta/client.js';
import { startSentinel } from '../../src/sentinel/start.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { eventually } from '../helpers/processes.js';
import { metaNodeState, quietLog, registerNodes, settleMoves, startFakeNode } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls meta's state of `id` until `stop()`; returns every state seen. */
function record(client: MetaClient, id: string): { stop: () => Promise<Set<string>> } {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await metaNodeState(client, id).catch(() => undefined);
      if (s !== undefined) seen.add(s);
      await sleep(50);
    }
  })();
  return { stop: async () => { running = false; await loop; return seen; } };
}

t.test('pauses, slowness and the confirmation period', async (t) => {
  const cluster = await startMetaCluster(t, 1, {}, { partitions: 16, replication: 3 });
  const client = cluster.client();
  const nodes = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((id) => startFakeNode(t, id)));
  await registerNodes(client, nodes);
  await settleMoves(client);
  const secrets = await loadClusterSecrets(join(cluster.dir, 'secrets.json'));
  const running = await startSentinel({
    id: 's1',
    metaEndpoints: [...cluster.apis.values()],
    credential: { kind: 'mint', authority: secrets.authority, subject: 's1' },
    settings: { intervalMs: 200, timeoutMs: 150, suspectAfterMisses: 2, recoverAfterSuccesses: 2, downAfterMs: 3000, minStateMs: 400, quorum: 1, refreshMs: 1000 },
    log: quietLog(),
    metaDeadlineMs: 3000,
  });
  t.teardown(() => running.stop());
  const { sentinel } = running;
  await eventually('the sentinel sees four nodes', async () => (sentinel.nodes().length === 4 ? true : undefined));
  const [n1, n2, n3] = nodes;

  await t.test('a pause shorter than the confirmation period: suspect at most, never down', async (t) => {
    const rec = record(client, 'n1');
    n1!.setMode('hang');
    await sleep(1500);
    n1!.setMode('ok');
    await eventually('n1 up again in meta', async () => ((await metaNodeState(client, 'n1')) === 'up' && sentinel.nodes().find((n) => n.id === 'n1')?.health === 'up' ? true : undefined), 20_000);
    await sleep(500);
    const seen = await rec.stop();
    t.notOk(seen.has('down'), `states seen in meta: ${[...seen].join(', ')}`);
    t.ok((sentinel.metrics.submissions.get('suspect/ok') ?? 0) >= 1, 'it was suspect meanwhile');
    t.equal(sentinel.metrics.submissions.get('down/ok') ?? 0, 0, 'no down was submitted');
    t.equal((await client.state()).state.plans.filter((p) => p.reason === 'node-down').length, 0, 'no repair planned');
  });

  await t.test('a node that always answers too late is down', async (t) => {
    n2!.setMode('slow', 600);
    await eventually('n2 down in meta', async () => ((await metaNodeState(client, 'n2')) === 'down' ? true : undefined), 30_000, 200);
    t.ok(sentinel.metrics.failures.get('timeout')! > 0, 'timeouts counted');
    n2!.setMode('ok');
    await eventually('n2 up again', async () => ((await metaNodeState(client, 'n2')) === 'up' ? true : undefined), 30_000, 200);
  });

  await t.test('a pause longer than the confirmation period is down, then up after it resumes', async (t) => {
    n3!.setMode('hang');
    const started = Date.now();
    await eventually('n3 down in meta', async () => ((await metaNodeState(client, 'n3')) === 'down' ? true : undefined), 30_000, 100);
    t.ok(Date.now() - started >= 3000, 'not before the confirmation period');
    const { state } = await client.state();
    t.ok(state.plans.some((p) => p.reason === 'node-down' && p.node === 'n3' && p.moves.length > 0), 'its partitions have a plan');
    n3!.setMode('ok');
    await eventually('n3 up again', async () => ((await metaNodeState(client, 'n3')) === 'up' ? true : undefined), 30_000, 200);
  });
});
