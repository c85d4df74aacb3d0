// A repair survives the restart of the processes that carry it out: while a node's lost
// partitions are being copied, a receiving node (a learner in the middle of its copy) is
// killed with -9 and started again, and the sentinel is stopped and replaced. The plan
// lives in meta, so the learner asks for its unfinished move again, copies that partition
// afresh, and the plan completes: every partition back to R = 3, every copy byte-equal.
import { join } from 'node:path';
import t from 'tap';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import { startSentinel } from '../../src/sentinel/start.js';
import { eventually } from '../helpers/processes.js';
import { prng } from '../helpers/prng.js';
import { quietLog } from '../sentinel/helpers.js';
import { FAST_SENTINEL, heldBy, movedPartitions, nextPlanNumber, plansFinished, plansFor, startRepairCluster, verifyEveryReplica, waitNodeState, writeObjects } from './helpers.js';

const seed = Number(process.env['OPERA_TEST_SEED'] ?? 1618);
t.comment(`seed ${seed} (replay with OPERA_TEST_SEED=${seed})`);

// A restarted node must not be taken for dead: down only after 10 s of silence.
const SENTINEL = { downAfterMs: 10_000 };

t.test('a learner killed mid-copy and a replaced sentinel: the repair completes', async (t) => {
  const rand = prng(seed);
  const c = await startRepairCluster(t, {
    nodes: 4, partitions: 8, replication: 3, repairGraceMs: 500, sentinel: SENTINEL,
    // 128 KiB/s per receiving node: each copy takes seconds, long enough to be interrupted.
    nodeArgs: ['--repair-bandwidth', '128K', '--drop-grace', '1h'],
  });
  const objects = await writeObjects(c, rand, 'draco', 40, 160 * 1024);
  const counts = await Promise.all(c.nodes.map(async (n) => [n, (await heldBy(c, n.id)).length] as const));
  const [victim] = counts.sort((a, b) => b[1] - a[1] || a[0].id.localeCompare(b[0].id))[0]!;
  const lost = await heldBy(c, victim.id);
  const from = await nextPlanNumber(c);
  await victim.kill('SIGKILL');

  // A move in the middle of its copy: its target is the learner to kill.
  const copying = await eventually('a move copying with bytes done', async () => {
    const plans = (await c.plans()).filter((p) => p.node === victim.id && p.state === 'active' && Number(p.id.slice(5)) >= from);
    return plans.flatMap((p) => p.moves).find((m) => m.state === 'copying' && m.bytesDone > 0);
  }, 90_000, 50);
  const learner = c.node(copying.target);
  t.comment(`killing ${learner.id} while it copies partition ${copying.partition} (${copying.bytesDone} of ${copying.bytesTotal} bytes)`);
  await learner.kill('SIGKILL');

  // The sentinel goes too, and another takes its place.
  await c.sentinel.stop();
  const secrets = await loadClusterSecrets(join(c.meta.dir, 'secrets.json'));
  const replacement = await startSentinel({
    id: 's2', metaEndpoints: [...c.meta.apis.values()], credential: { kind: 'mint', authority: secrets.authority, subject: 's2' },
    settings: { ...FAST_SENTINEL, ...SENTINEL }, log: quietLog(), metaDeadlineMs: 3000,
  });
  t.teardown(() => replacement.stop());
  learner.start();

  await waitNodeState(c, victim.id, 'down', 60_000);
  const plans = await plansFor(c, victim.id, 'node-down', from, lost);
  const ended = await plansFinished(c, plans.map((p) => p.id), 180_000);
  t.same(movedPartitions(ended, (m) => m.state === 'done' && m.target !== victim.id), lost, 'every lost partition got a completed copy');
  t.not(await c.nodeState(learner.id), 'down', `${learner.id} was never taken for dead`);
  const map = await c.settled(3, 90_000);
  t.ok(map.partitions.every((p) => !p.replicas.includes(victim.id)), `${victim.id} holds nothing any more`);
  await verifyEveryReplica(t, c, objects, 'after the interrupted repair');
});
