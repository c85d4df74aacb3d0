// Replicas that stop answering: the primary removes each through meta
// (partition-reconfigure) before writes go on without it; with fewer in-sync replicas
// than minInsync (2 of 3) writes are refused with 503 while reads still work, under a
// lease confirmed by meta.
import t from 'tap';
import { startCluster, get, put } from './cluster.js';

t.test('replicas lost one by one', async (t) => {
  const c = await startCluster(t, { nodes: 3 });
  const map = await c.settled(3);
  const token = c.token('client');
  const key = 'sol/jupiter';
  const p = c.partitionOf(key);
  const primary = c.node(map.partitions[p]!.primary!);
  const [first, second] = map.partitions[p]!.replicas.filter((id) => id !== primary.id).map((id) => c.node(id));
  t.equal((await put(primary, token, p, key, 'v1')).status, 201);

  // One replica dies: a write waits until the primary has it removed, then succeeds on two copies.
  await first!.kill('SIGKILL');
  const started = Date.now();
  let res = await put(primary, token, p, key, 'v2');
  while (res.status === 503 && Date.now() - started < 30_000) {
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    res = await put(primary, token, p, key, 'v2');
  }
  t.equal(res.status, 201, `a write succeeds again ${Date.now() - started} ms after the replica died`);
  const after = (await c.map()).partitions[p]!;
  t.notOk(after.replicas.includes(first!.id), `${first!.id} left the in-sync set`);
  t.ok(after.epoch > map.partitions[p]!.epoch, 'in a new epoch');
  t.same([...after.replicas].sort(), [primary.id, second!.id].sort());
  // Right after the epoch change a replica answers consistency=any only once its new
  // primary's beacon reached it (503 not-current before): at most a beacon interval.
  let onSecond = await get(second!, token, p, key, '?consistency=any');
  for (let i = 0; i < 50 && onSecond.status === 503; i++) {
    await onSecond.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    onSecond = await get(second!, token, p, key, '?consistency=any');
  }
  t.equal(await onSecond.text(), 'v2', 'the remaining replica has the write');

  // A second replica dies: the set shrinks below minInsync and writes are refused.
  await second!.kill('SIGKILL');
  let refusal = '';
  for (let i = 0; i < 300; i++) {
    const r = await put(primary, token, p, key, 'v3');
    const body = (await r.json()) as { error?: { code: string } };
    refusal = `${r.status} ${body.error?.code ?? ''}`;
    if (refusal === '503 not-enough-replicas') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(refusal, '503 not-enough-replicas', 'writes are refused below minInsync');
  t.same((await c.map()).partitions[p]!.replicas, [primary.id]);
  // The last write that was acknowledged is still served, linearizably, under a lease meta confirms.
  let read = await get(primary, token, p, key);
  for (let i = 0; i < 100 && read.status === 503; i++) {
    await read.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    read = await get(primary, token, p, key);
  }
  t.equal(read.status, 200);
  const value = await read.text();
  t.ok(value === 'v2' || value === 'v3', `the primary serves the newest committed value (${value})`);
});
