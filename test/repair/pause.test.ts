// A paused storage node (SIGSTOP) with a real sentinel: a pause shorter than the
// confirmation period makes no plan and no down; a longer one while clients write makes
// the node down and its partitions are repaired elsewhere. After SIGCONT the node is up
// again and is reconciled: at no moment, from the instant it resumes, does it serve a
// value older than the newest acknowledged one (it refuses instead), and it ends up
// holding nothing placement moved away.
import t from 'tap';
import { eventually } from '../helpers/processes.js';
import { prng, randomInt } from '../helpers/prng.js';
import { objectUrl } from '../node/cluster.js';
import { heldBy, nextPlanNumber, plansFinished, plansFor, startRepairCluster, verifyEveryReplica, waitNodeState, writeObjects } from './helpers.js';

const seed = Number(process.env['OPERA_TEST_SEED'] ?? 777);
t.comment(`seed ${seed} (replay with OPERA_TEST_SEED=${seed})`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('short and long pauses of a storage node', async (t) => {
  const rand = prng(seed);
  // Down after 4 s of silence; a silent replica is dropped from the in-sync set after 1.5 s.
  const c = await startRepairCluster(t, {
    nodes: 4, partitions: 8, replication: 3, repairGraceMs: 500,
    nodeArgs: ['--repair-bandwidth', '2M', '--drop-grace', '1h', '--replication-timeout-ms', '1500'],
    sentinel: { downAfterMs: 4000 },
  });
  const objects = await writeObjects(c, rand, 'vega', 32, 16 * 1024);
  const counts = await Promise.all(c.nodes.map(async (n) => [n, (await heldBy(c, n.id)).length] as const));
  const [paused] = counts.sort((a, b) => b[1] - a[1] || a[0].id.localeCompare(b[0].id))[0]!;

  await t.test('a pause shorter than the replication timeout: no down, no plan', async (t) => {
    const from = await nextPlanNumber(c);
    paused.proc!.kill('SIGSTOP');
    await sleep(800);
    paused.proc!.kill('SIGCONT');
    await sleep(3000);
    t.not(await c.nodeState(paused.id), 'down', `${paused.id} never went down`);
    const plans = (await c.plans()).filter((p) => Number(p.id.slice(5)) >= from);
    t.same(plans.map((p) => p.id), [], 'no plan');
    await waitNodeState(c, paused.id, 'up');
  });

  await t.test('a long pause while clients write: down, repaired elsewhere; after SIGCONT no stale read', async (t) => {
    const held = await heldBy(c, paused.id);
    const from = await nextPlanNumber(c);
    paused.proc!.kill('SIGSTOP');
    // Overwrite every object while the node sleeps: its copies are now stale.
    for (const [k, v] of await writeObjects(c, rand, 'vega', 32, 16 * 1024)) objects.set(k, v);
    await waitNodeState(c, paused.id, 'down', 60_000);
    const plans = await plansFor(c, paused.id, 'node-down', from, held);
    await plansFinished(c, plans.map((p) => p.id));
    await c.settled(3, 90_000);
    t.ok((await c.map()).partitions.every((p) => !p.replicas.includes(paused.id)), `${paused.id} holds nothing while it sleeps`);

    // Resume it and read every object from it at once, and again until it is up.
    paused.proc!.kill('SIGCONT');
    const token = c.token('client');
    const stale: string[] = [];
    let served = 0;
    let refused = 0;
    const keys = [...objects.keys()];
    const deadline = Date.now() + 30_000;
    let up = false;
    while (Date.now() < deadline && !(up && served + refused > keys.length * 2)) {
      const key = keys[randomInt(rand, 0, keys.length - 1)]!;
      const p = c.partitionOf(key);
      for (const query of ['', '?consistency=any']) {
        const res = await fetch(objectUrl(paused, p, key, query), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        if (res === undefined) continue;
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status === 200) {
          served++;
          if (!body.equals(objects.get(key)!)) stale.push(`${key}${query}: ${body.length} bytes, not the ${objects.get(key)!.length} acknowledged`);
        } else refused++;
      }
      up ||= (await c.nodeState(paused.id)) === 'up';
    }
    t.ok(up, `${paused.id} is up again`);
    t.same(stale, [], `${served} reads served and ${refused} refused by ${paused.id} after SIGCONT, none stale`);
    await verifyEveryReplica(t, c, objects, 'after the long pause');
    await eventually(`${paused.id} has no role in the map`, async () => ((await heldBy(c, paused.id)).length === 0 ? true : undefined), 10_000);
  });
});
