// kill -9 of the primary in the middle of a stream of writes: a replica campaigns once
// the lease and its grace have passed, meta appoints the replica with the highest
// sequence, no acknowledged write is lost, and no linearizable read ever returns a value
// older than one acknowledged before the read began.
import t from 'tap';
import { startCluster } from './cluster.js';
import { checkNothingLost, counterKeys, startCounterLoad } from './counter-load.js';
import { seedFor, prng } from './store/helpers.js';

t.test('kill -9 of the primary during writes loses no acknowledged write and serves no stale read', async (t) => {
  const seed = seedFor(t);
  const rand = prng(seed);
  const c = await startCluster(t, { nodes: 3 });
  const map = await c.settled(3);
  const token = c.token('client');
  const keys = counterKeys('hip', 8);
  // Primaries are spread: kill the one leading the most of these keys.
  const leads = new Map<string, number>();
  for (const k of keys) {
    const id = map.partitions[c.partitionOf(k.key)]!.primary!;
    leads.set(id, (leads.get(id) ?? 0) + 1);
  }
  const oldPrimary = [...leads].sort((a, b) => b[1] - a[1])[0]![0];
  const load = startCounterLoad(t, c, keys, token, rand);
  await new Promise((r) => setTimeout(r, 2000));
  // On a loaded machine a slow replica may have been dropped and be copying again: wait for all three.
  await c.settled(3);
  const ackedBeforeKill = keys.map((k) => k.acked);
  t.ok(ackedBeforeKill.every((n) => n > 0), 'writes were acknowledged before the kill');
  const killedAt = Date.now();
  await c.node(oldPrimary).kill('SIGKILL');
  t.comment(`killed the primary ${oldPrimary} with writes at ${ackedBeforeKill.join(',')}`);

  // Writes go on once a new primary is active.
  const resumed = await load.until((i) => ackedBeforeKill[i]! + 5, 40_000);
  const recoveredIn = Date.now() - killedAt;
  await load.stop();
  t.ok(resumed, `writes resumed after the failover (${recoveredIn} ms)`);
  t.comment(`reads ${load.reads()}, refused or failed writes: ${JSON.stringify([...load.failures])}`);
  t.equal(load.staleReads(), 0, 'no stale read');

  const after = await c.map();
  t.ok(after.partitions.every((p) => p.primary !== oldPrimary && !p.replicas.includes(oldPrimary)), 'the dead primary left every in-sync set');
  // Nothing acknowledged was lost, on the new primary and on every in-sync replica.
  await checkNothingLost(t, c, keys, token);
});
