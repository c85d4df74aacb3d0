// A node joins a running cluster: meta commits a node-join plan that moves exactly the
// replicas placement now assigns to the new node (each replacing the replica placement
// no longer wants), nothing else moves, the layout ends equal to placement's, and every
// copy of every object reads back byte-equal.
import t from 'tap';
import { placeReplicas } from '../../src/meta/placement.js';
import { placementNodes } from '../../src/meta/view.js';
import { prng } from '../helpers/prng.js';
import { movedPartitions, nextPlanNumber, plansFinished, plansFor, startRepairCluster, verifyEveryReplica, writeObjects } from './helpers.js';

const seed = Number(process.env['OPERA_TEST_SEED'] ?? 4242);
t.comment(`seed ${seed} (replay with OPERA_TEST_SEED=${seed})`);

t.test('a fourth node joins: only what placement assigns to it moves', async (t) => {
  const rand = prng(seed);
  const c = await startRepairCluster(t, { nodes: 3, partitions: 12, replication: 3, repairGraceMs: 500, nodeArgs: ['--repair-bandwidth', '1M', '--drop-grace', '2s'],
    // The sentinel probes a node from its join on; detection is not under test here, and a
    // loaded machine may take long to start the process.
    sentinel: { downAfterMs: 120_000 } });
  const objects = await writeObjects(c, rand, 'orion', 60, 32 * 1024);
  const from = await nextPlanNumber(c);

  const n4 = await c.addNode('n4');
  n4.start();
  const { state } = await c.meta.client().state();
  const wanted = state.partitions.flatMap((_, p) => (placeReplicas(p, placementNodes(state), 3).includes('n4') ? [p] : []));
  t.ok(wanted.length > 0 && wanted.length < 12, `placement gives n4 partitions ${wanted.join(', ')}`);

  const [plan, ...others] = await plansFor(c, 'n4', 'node-join', from, wanted);
  t.equal(others.length, 0, 'one join plan');
  t.same(movedPartitions([plan!]), wanted, 'the plan moves exactly the partitions placement gives to n4');
  for (const m of plan!.moves) {
    const desired = placeReplicas(m.partition, placementNodes(state), 3);
    t.ok(m.target === 'n4' && m.source !== null && !desired.includes(m.source), `partition ${m.partition}: ${m.source} gives way to n4`);
  }
  const [ended] = await plansFinished(c, [plan!.id]);
  t.ok(ended!.moves.every((m) => m.state === 'done'), `every move completed: ${JSON.stringify(ended!.moves)}`);
  // (A replica too slow under load may be dropped and catch up again meanwhile: that is a repair, not a rebalance.)
  const rebalancing = (await c.plans()).filter((p) => Number(p.id.slice(5)) >= from && (p.reason === 'node-join' || p.reason === 'rebalance'));
  t.same(rebalancing.map((p) => p.id), [plan!.id], 'no other rebalancing plan was made');
  const elsewhere = (await c.plans()).filter((p) => Number(p.id.slice(5)) >= from && p.id !== plan!.id).flatMap((p) => p.moves).filter((m) => m.source !== null || m.target === 'n4');
  t.same(elsewhere, [], 'nothing else moved a replica between nodes');

  const map = await c.settled(3, 90_000);
  const { state: after } = await c.meta.client().state();
  const misplaced = map.partitions.flatMap((record, p) => {
    const desired = [...placeReplicas(p, placementNodes(after), 3)].sort();
    return JSON.stringify([...record.replicas].sort()) === JSON.stringify(desired) ? [] : [`${p}: ${record.replicas.join(',')} vs ${desired.join(',')}`];
  });
  t.same(misplaced, [], 'every partition is where placement wants it');
  await verifyEveryReplica(t, c, objects, 'after the join');
});
