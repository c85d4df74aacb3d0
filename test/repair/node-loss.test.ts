// Losing storage nodes for good (kill -9), one after the other, with a real sentinel:
// each loss is declared down, becomes a node-down plan in meta, the surviving nodes copy
// the lost replicas as learners, every partition is back to R = 3 in-sync replicas and
// every copy of every object reads back byte-equal. The second repair runs through a
// kill of the meta leader: the plan lives in the Raft log, so it resumes and completes.
import t from 'tap';
import { prng } from '../helpers/prng.js';
import { eventually } from '../helpers/processes.js';
import { heldBy, movedPartitions, nextPlanNumber, plansFinished, plansFor, running, startRepairCluster, verifyEveryReplica, waitNodeState, writeObjects } from './helpers.js';

const seed = Number(process.env['OPERA_TEST_SEED'] ?? 20261124);
t.comment(`seed ${seed} (replay with OPERA_TEST_SEED=${seed})`);

t.test('two nodes lost one after the other; the second repair survives a meta leader kill', async (t) => {
  const rand = prng(seed);
  // Slow copies (128 KiB/s per node) keep the second repair running while meta's leader dies.
  const c = await startRepairCluster(t, { nodes: 5, partitions: 8, replication: 3, repairGraceMs: 500, nodeArgs: ['--repair-bandwidth', '128K', '--drop-grace', '1h'] });
  const objects = await writeObjects(c, rand, 'lyra', 48, 64 * 1024);
  await verifyEveryReplica(t, c, objects, 'before any loss');

  // The first loss: the node holding the most partitions.
  const counts = await Promise.all(c.nodes.map(async (n) => [n, (await heldBy(c, n.id)).length] as const));
  const [victim] = counts.sort((a, b) => b[1] - a[1] || a[0].id.localeCompare(b[0].id))[0]!;
  const lost = await heldBy(c, victim.id);
  t.ok(lost.length > 0, `${victim.id} holds partitions ${lost.join(', ')}`);
  let from = await nextPlanNumber(c);
  await victim.kill('SIGKILL');
  await waitNodeState(c, victim.id, 'down');
  const plans = await plansFor(c, victim.id, 'node-down', from, lost);
  t.same(movedPartitions(plans), lost, `plans ${plans.map((p) => p.id).join(', ')} move exactly the lost partitions`);
  t.ok(plans.every((p) => p.moves.every((m) => m.source === victim.id || m.source === null)), 'each move replaces the lost replica');
  const ended = await plansFinished(c, plans.map((p) => p.id));
  t.same(movedPartitions(ended, (m) => m.state === 'done' && m.target !== victim.id), lost, 'every lost partition got a completed copy on a live node');
  let map = await c.settled(3, 90_000);
  t.ok(map.partitions.every((p) => !p.replicas.includes(victim.id)), `${victim.id} holds nothing any more`);
  await verifyEveryReplica(t, c, objects, 'after the first repair');

  // More data, then the second loss; the meta leader is killed while copies run.
  for (const [k, v] of await writeObjects(c, rand, 'cygnus', 48, 192 * 1024)) objects.set(k, v);
  const second = running(c).find((n) => n.id !== victim.id)!;
  const lostAgain = await heldBy(c, second.id);
  from = await nextPlanNumber(c);
  await second.kill('SIGKILL');
  const copying = await eventually('a copy running for the second loss', async () => {
    const active = (await c.plans()).filter((p) => p.node === second.id && p.state === 'active' && Number(p.id.slice(5)) >= from);
    return active.some((p) => p.moves.some((m) => m.state === 'copying')) ? active : undefined;
  }, 60_000, 100);
  const leader = await c.meta.leader();
  await c.meta.kill(leader);
  t.comment(`meta leader ${leader} killed while ${copying.map((p) => p.id).join(', ')} copy`);
  await waitNodeState(c, second.id, 'down', 60_000);
  c.meta.start(leader);
  const plans2 = await plansFor(c, second.id, 'node-down', from, lostAgain);
  t.same(movedPartitions(plans2), lostAgain, 'the second loss is planned for exactly the partitions lost again');
  const ended2 = await plansFinished(c, plans2.map((p) => p.id));
  t.same(movedPartitions(ended2, (m) => m.state === 'done' && m.target !== second.id), lostAgain, 'every partition lost again got a completed copy after the leader change');
  map = await c.settled(3, 90_000);
  t.ok(map.partitions.every((p) => !p.replicas.includes(second.id) && !p.replicas.includes(victim.id)), 'neither lost node holds anything');
  await verifyEveryReplica(t, c, objects, 'after the second repair');
});
