// Nodes hold only ciphertext: values sealed at the edge (here with a local KEK) never put
// their plaintext on any node's disk. One flipped byte of a stored ciphertext is caught
// on read (an error, never the bytes); the read starts a scrub of its partition at once,
// which takes the replica out of the in-sync set so that the partition is copied afresh
// from the primary.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ClassicLevel } from 'classic-level';
import { createEncryptStream, newSealingKey, openValue, sealValue } from '../../src/crypto/envelope.js';
import { LocalKeyService } from '../../src/crypto/key-service.js';
import { generateKek } from '../../src/crypto/secrets.js';
import { objectKey, parseChunkKey, partitionPrefix, prefixRange, TAG_CHUNK } from '../../src/node/store/layout.js';
import { startCluster, get, put, type TestNode } from './cluster.js';
import { seedFor, seededBytes } from './store/helpers.js';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function grep(dir: string, needle: Buffer): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await filesUnder(dir)) if ((await readFile(file)).includes(needle)) hits.push(file);
  return hits;
}

/** With the node stopped: flips one byte of the inline value of `key`, and one byte of chunk 3 of `bigKey`. */
async function corrupt(node: TestNode, partition: number, key: string, bigKey: string): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(join(node.dir, 'data'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    const record = await db.get(objectKey(partition, key));
    if (record === undefined) throw new Error(`no record for ${key}`);
    record[record.length - 1]! ^= 0x01;
    await db.put(objectKey(partition, key), record, { sync: true });
    for await (const [k, v] of db.iterator(prefixRange(partitionPrefix(TAG_CHUNK, partition)))) {
      const address = parseChunkKey(k);
      if (address.keyBytes.toString('utf8') !== bigKey || address.index !== 3) continue;
      v[100]! ^= 0x80;
      await db.put(k, v, { sync: true });
    }
  } finally {
    await db.close();
  }
}

t.test('ciphertext only on disk; corruption is detected and repaired', async (t) => {
  const seed = seedFor(t);
  // A long replication timeout: the replica we corrupt is stopped for a while and must not be dropped meanwhile.
  const c = await startCluster(t, { nodes: 3, nodeArgs: ['--replication-timeout-ms', '30000', '--drop-grace', '1s'] });
  const map = await c.settled(3);
  const token = c.token('client');
  const keys = new LocalKeyService([generateKek('edge', 1)]);
  const marker = Buffer.from(`SPACE-OPERA-PLAINTEXT-MARKER-${seed}`);

  // Small values (inline in their records) and one large one (chunked), all sealed at the edge.
  const bigKey = 'hip/secret-catalogue';
  const bigP = c.partitionOf(bigKey);
  const names = Array.from({ length: 5 }, (_, i) => `sol/secret-${i}`);
  for (let i = 0; !names.some((k) => c.partitionOf(k) === bigP); i++) names.push(`sol/secret-x${i}`);
  const small = names.map((key, i) => ({ key, plain: Buffer.concat([marker, Buffer.from(` body ${i} `), marker]) }));
  const stored = new Map<string, Buffer>();
  for (const { key, plain } of small) {
    const sealed = await sealValue(keys, key, plain);
    const p = c.partitionOf(key);
    t.equal((await put(c.node(map.partitions[p]!.primary!), token, p, key, sealed)).status, 201);
    stored.set(key, sealed);
  }
  const bigPlain = Buffer.concat([seededBytes(seed, 2_000_000), marker, seededBytes(seed + 1, 500_000)]);
  const sealing = await newSealingKey(keys, bigKey);
  const parts: Buffer[] = [];
  for await (const piece of Readable.from([bigPlain]).pipe(createEncryptStream(sealing))) parts.push(piece as Buffer);
  const bigSealed = Buffer.concat(parts);
  t.equal((await put(c.node(map.partitions[bigP]!.primary!), token, bigP, bigKey, bigSealed)).status, 201);

  // Round trip through the primary, decrypted at the edge.
  for (const { key, plain } of small) {
    const p = c.partitionOf(key);
    const res = await get(c.node(map.partitions[p]!.primary!), token, p, key);
    t.ok((await openValue(keys, key, Buffer.from(await res.arrayBuffer()))).equals(plain), `${key} decrypts`);
  }

  // No node's directory holds the plaintext marker; every one holds the ciphertext.
  const probe = stored.get(small[0]!.key)!.subarray(150, 182);
  for (const n of c.nodes) {
    t.same(await grep(n.dir, marker), [], `no plaintext under ${n.id}'s directory`);
    t.not((await grep(n.dir, probe)).length, 0, `${n.id} does hold the ciphertext (the search works)`);
  }

  // Corrupt a replica of the partition that holds both an inline value and the large one.
  const victimKey = small.find((s) => c.partitionOf(s.key) === bigP)!.key;
  const p = bigP;
  const replica = c.node(map.partitions[p]!.replicas.find((id) => id !== map.partitions[p]!.primary)!);
  // kill -9, not SIGTERM: a drained node leaves its in-sync sets (and is copied afresh),
  // while this replica must come back as one, holding its damaged copy.
  await replica.kill('SIGKILL');
  await corrupt(replica, p, victimKey, bigKey);
  replica.start(); // with the cluster's node arguments
  const admin = { authorization: `Bearer ${c.token('admin')}` };
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${replica.url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await c.settled(3);

  // Reads of the damaged copy fail; they never return the bytes.
  const bad = await get(replica, token, p, victimKey, '?consistency=any');
  t.equal(bad.status, 500, 'a small corrupt value is refused before any byte is sent');
  t.match(await bad.json(), { error: { code: 'corrupt' } });
  const big = await get(replica, token, p, bigKey, '?consistency=any');
  if (big.status === 200) {
    await t.rejects(big.arrayBuffer(), 'a large corrupt value breaks off mid-body instead of completing');
  } else {
    t.equal(big.status, 500);
  }
  // The local copy (consistency=any): the corrupt reads have just made the replica leave
  // the in-sync set, so the partition may be between epochs and a linearizable read wait.
  // (A copy answers consistency=any once it is confirmed current: ask again on 503.)
  let good = await get(c.node(map.partitions[p]!.primary!), token, p, bigKey, '?consistency=any');
  for (let i = 0; i < 50 && good.status === 503; i++) {
    await good.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    good = await get(c.node(map.partitions[p]!.primary!), token, p, bigKey, '?consistency=any');
  }
  t.ok(Buffer.from(await good.arrayBuffer()).equals(bigSealed), 'the primary still serves the intact copy');

  // The corrupt reads made the node scrub that partition at once (not at its next pass):
  // it found the rot, left the in-sync set and is copied afresh from a peer.
  let metrics = '';
  for (let i = 0; i < 200; i++) {
    metrics = await (await fetch(`${replica.url}/metrics`, { headers: admin })).text();
    if (/opera_node_scrub_corrupt_total\{reason="digest-mismatch"\} [1-9]/.test(metrics)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.match(metrics, /opera_node_scrub_corrupt_total\{reason="digest-mismatch"\} [1-9]/, 'a corrupt read started a scrub of its partition, which found the rot');
  t.match(metrics, /opera_node_read_corrupt_total [1-9]/, 'the corrupt reads are counted');

  await c.settled(3);
  const repaired = await get(replica, token, p, bigKey, '?consistency=any');
  t.equal(repaired.status, 200);
  t.ok(Buffer.from(await repaired.arrayBuffer()).equals(bigSealed), 'the replica holds an intact copy again');
  const again = await get(replica, token, p, victimKey, '?consistency=any');
  t.ok(Buffer.from(await again.arrayBuffer()).equals(stored.get(victimKey)!), 'the small value too');
  const clean = (await (await fetch(`${replica.url}/v1/scrub`, { method: 'POST', headers: admin })).json()) as { corrupt: unknown[]; checked: number };
  t.same(clean.corrupt, [], 'a second pass finds nothing');
  t.ok(clean.checked > 0);
});
