// Three real node processes and a real meta group: a write the primary acknowledged is
// on every in-sync replica at once; reads at a replica follow the rules of consistency;
// deletes are tombstones on every replica.
import t from 'tap';
import { startCluster, get, put, objectUrl } from './cluster.js';

t.test('an acknowledged write is on every replica', async (t) => {
  const started = Date.now();
  const c = await startCluster(t, { nodes: 3 });
  t.comment(`cluster started in ${Date.now() - started} ms`);
  const map = await c.settled(3);
  t.comment(`settled in ${Date.now() - started} ms`);
  const token = c.token('client');
  for (let i = 0; i < 20; i++) {
    const key = `sol/planet-${i}`;
    const p = c.partitionOf(key);
    const primary = c.node(map.partitions[p]!.primary!);
    const body = `value of ${key}`;
    const res = await put(primary, token, p, key, body, { 'content-type': 'text/plain' });
    t.equal(res.status, 201, `PUT ${key}`);
    const { version } = (await res.json()) as { version: number };
    for (const n of c.nodes) {
      const r = await get(n, token, p, key, '?consistency=any');
      t.equal(r.status, 200, `${n.id} has ${key}`);
      t.equal(r.headers.get('etag'), `"${version}"`);
      t.equal(await r.text(), body);
    }
  }
  // A linearizable read at a replica is redirected to the primary.
  const p0 = c.partitionOf('sol/planet-0');
  const replica = c.nodes.find((n) => n.id !== map.partitions[p0]!.primary)!;
  const redirected = await get(replica, token, p0, 'sol/planet-0');
  t.equal(redirected.status, 409);
  const err = (await redirected.json()) as { error: { code: string; primary: string; epoch: number } };
  t.equal(err.error.code, 'stale-epoch');
  t.equal(err.error.primary, map.partitions[p0]!.primary);

  // A delete is a tombstone on every replica.
  const primary0 = c.node(map.partitions[p0]!.primary!);
  const del = await fetch(objectUrl(primary0, p0, 'sol/planet-0'), { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  t.equal(del.status, 200);
  t.match(await del.json(), { existed: true });
  for (const n of c.nodes) t.equal((await get(n, token, p0, 'sol/planet-0', '?consistency=any')).status, 404, `${n.id}: deleted`);
});
