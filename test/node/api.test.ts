// The node HTTP API on one real node process (R = 1): objects, conditional writes,
// listing, ranges, and every kind of bad request answered clearly with nothing
// half-written visible.
import t from 'tap';
import { connect } from 'node:net';
import { createHash } from 'node:crypto';
import { startCluster, get, put, objectUrl, type TestNode } from './cluster.js';

function keyIn(partition: number, partitionOf: (k: string) => number, prefix: string): string {
  for (let i = 0; ; i++) if (partitionOf(`${prefix}${i}`) === partition) return `${prefix}${i}`;
}

/** A PUT that announces `declared` bytes, sends `sent`, then drops the connection. */
function truncatedPut(node: TestNode, token: string, path: string, declared: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(node.port, '127.0.0.1', () => {
      socket.write(`PUT ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${declared}\r\n\r\n`);
      socket.write(Buffer.alloc(sent, 0x41), () => setTimeout(() => socket.destroy(), 200));
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

t.test('the node API', async (t) => {
  const c = await startCluster(t, { nodes: 1, replication: 1, metaMembers: 1 });
  const map = await c.settled(1);
  const node = c.nodes[0]!;
  const token = c.token('client');
  const auth = { authorization: `Bearer ${token}` };
  const p = 2;
  const key = keyIn(p, c.partitionOf, 'sol/earth/moon-');
  const epoch = map.partitions[p]!.epoch;

  t.test('put, get, head, range, delete', async (t) => {
    const body = Buffer.from('ciphertext bytes of the moon');
    const digest = createHash('sha256').update(body).digest('hex');
    const res = await put(node, token, p, key, body, { 'content-type': 'application/x-opera', 'x-opera-digest': digest, 'x-opera-plain-size': '10', 'x-opera-epoch': String(epoch) });
    t.equal(res.status, 201);
    const written = (await res.json()) as { version: number; digest: string; size: number };
    t.same(written, { version: written.version, digest, size: body.length });
    t.equal(res.headers.get('etag'), `"${written.version}"`);
    const got = await get(node, token, p, key);
    t.equal(got.status, 200);
    t.ok(Buffer.from(await got.arrayBuffer()).equals(body));
    t.equal(got.headers.get('x-opera-digest'), digest);
    t.equal(got.headers.get('x-opera-content-type'), 'application/x-opera');
    t.equal(got.headers.get('x-opera-plain-size'), '10');
    const head = await fetch(objectUrl(node, p, key), { method: 'HEAD', headers: auth });
    t.equal(head.status, 200);
    t.equal(head.headers.get('content-length'), String(body.length));
    const range = await get(node, token, p, key, '', { range: 'bytes=0-9' });
    t.equal(range.status, 206);
    t.equal(await range.text(), 'ciphertext');
    t.equal(range.headers.get('content-range'), `bytes 0-9/${body.length}`);
    t.equal((await get(node, token, p, key, '', { range: 'bytes=500-' })).status, 416);
    const del = await fetch(objectUrl(node, p, key), { method: 'DELETE', headers: { ...auth, 'if-match': `"${written.version}"` } });
    t.equal(del.status, 200);
    t.match(await del.json(), { existed: true });
    t.equal((await get(node, token, p, key)).status, 404);
    t.equal((await fetch(objectUrl(node, p, key), { method: 'HEAD', headers: auth })).status, 404);
  });

  t.test('conditional writes', async (t) => {
    const k = keyIn(p, c.partitionOf, 'cas/');
    const first = await put(node, token, p, k, 'a', { 'if-none-match': '*' });
    t.equal(first.status, 201);
    const v1 = ((await first.json()) as { version: number }).version;
    const again = await put(node, token, p, k, 'b', { 'if-none-match': '*' });
    t.equal(again.status, 412);
    t.match(await again.json(), { error: { code: 'precondition-failed', currentVersion: v1 } });
    const wrong = await put(node, token, p, k, 'b', { 'if-match': `"${v1 + 100}"` });
    t.equal(wrong.status, 412, 'a version that is not current');
    const right = await put(node, token, p, k, 'b', { 'if-match': `"${v1}"` });
    t.equal(right.status, 201);
    t.equal(await (await get(node, token, p, k)).text(), 'b');
    for (const bad of ['abc', '"-1"', '*', '"0"']) {
      const r = await put(node, token, p, k, 'c', { 'if-match': bad });
      t.equal(r.status, 400, `If-Match ${bad}`);
      t.match(await r.json(), { error: { code: 'bad-precondition' } });
    }
    t.equal((await put(node, token, p, k, 'c', { 'if-none-match': '"3"' })).status, 400);
    t.equal((await put(node, token, p, k, 'c', { 'if-match': `"${v1}"`, 'if-none-match': '*' })).status, 400);
    // Concurrent creates: exactly one wins.
    const k2 = keyIn(p, c.partitionOf, 'race/');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => put(node, token, p, k2, `w${i}`, { 'if-none-match': '*' }).then((r) => r.status)));
    t.equal(results.filter((s) => s === 201).length, 1, 'one creator');
    t.equal(results.filter((s) => s === 412).length, 7);
  });

  t.test('bad keys, partitions and epochs', async (t) => {
    const cases: [string, string, RegExp][] = [
      ['an empty segment', `/v1/partitions/${p}/objects/a//b`, /empty-segment/],
      ['a trailing slash', `/v1/partitions/${p}/objects/a/b/`, /empty-segment/],
      ['a control character', `/v1/partitions/${p}/objects/a%01b`, /control-character/],
      ['bad percent-encoding', `/v1/partitions/${p}/objects/a%ZZ`, /utf8/],
      ['an oversized key', `/v1/partitions/${p}/objects/${'x'.repeat(1025)}`, /too-long/],
    ];
    for (const [what, path, rule] of cases) {
      const r = await fetch(node.url + path, { method: 'PUT', headers: auth, body: 'x' });
      t.equal(r.status, 400, what);
      const body = (await r.json()) as { error: { code: string; rule: string; message: string } };
      t.equal(body.error.code, 'invalid-key', what);
      t.match(body.error.rule, rule, `${what}: ${body.error.message}`);
    }
    const other = keyIn((p + 1) % 4, c.partitionOf, 'elsewhere/');
    const wrong = await put(node, token, p, other, 'x');
    t.equal(wrong.status, 400);
    t.match(await wrong.json(), { error: { code: 'wrong-partition', partition: (p + 1) % 4 } });
    t.equal((await fetch(`${node.url}/v1/partitions/99/objects/a`, { headers: auth })).status, 404);
    const stale = await put(node, token, p, key, 'x', { 'x-opera-epoch': String(epoch - 1) });
    t.equal(stale.status, 409);
    t.match(await stale.json(), { error: { code: 'stale-epoch', epoch, primary: node.id, primaryUrl: node.url } });
    t.equal(stale.headers.get('x-opera-epoch'), String(epoch));
    t.equal((await put(node, token, p, key, 'x', { 'x-opera-epoch': 'seven' })).status, 400);
    t.equal((await put(node, token, p, key, 'x', { 'x-opera-digest': 'abc' })).status, 400);
    t.equal((await get(node, token, p, key, '?consistency=strong')).status, 400);
    t.equal((await get(node, token, p, key)).status, 404, 'nothing of the refused writes is visible');
  });

  t.test('truncated and mismatched uploads leave nothing behind', async (t) => {
    const k = keyIn(p, c.partitionOf, 'truncated/');
    const path = objectUrl(node, p, k).slice(node.url.length);
    await truncatedPut(node, token, path, 1_000_000, 300_000);
    await truncatedPut(node, token, path, 100, 10);
    const mismatch = await put(node, token, p, k, 'hello', { 'x-opera-digest': '0'.repeat(64) });
    t.equal(mismatch.status, 400);
    t.match(await mismatch.json(), { error: { code: 'digest-mismatch' } });
    t.equal((await get(node, token, p, k)).status, 404, 'the key is absent');
    const list = (await (await fetch(`${node.url}/v1/partitions/${p}/objects?prefix=truncated/`, { headers: auth })).json()) as { items: unknown[] };
    t.same(list.items, [], 'and not listed');
    const status = (await (await fetch(`${node.url}/v1/status`, { headers: { authorization: `Bearer ${c.token('admin')}` } })).json()) as { partitions: { partition: number; objects: number }[] };
    t.ok(status.partitions.every((s) => s.objects >= 0), 'counters are sane');
    // Later writes to the same key work normally.
    t.equal((await put(node, token, p, k, 'whole')).status, 201);
    t.equal(await (await get(node, token, p, k)).text(), 'whole');
  });

  t.test('listing: ordered, by prefix, paginated', async (t) => {
    const keys: string[] = [];
    for (let i = 0; keys.length < 12; i++) if (c.partitionOf(`list/${String(i).padStart(3, '0')}`) === 1) keys.push(`list/${String(i).padStart(3, '0')}`);
    for (const k of keys) t.equal((await put(node, token, 1, k, k)).status, 201);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const q = new URLSearchParams({ prefix: 'list/', limit: '5', ...(after !== null ? { after } : {}) });
      const r = (await (await fetch(`${node.url}/v1/partitions/1/objects?${q}`, { headers: auth })).json()) as { items: { key: string; version: number }[]; next: string | null };
      seen.push(...r.items.map((i) => i.key));
      after = r.next;
      if (after === null) break;
    }
    t.same(seen, [...keys].sort());
    t.equal((await fetch(`${node.url}/v1/partitions/1/objects?prefix=a//`, { headers: auth })).status, 400);
    t.equal((await fetch(`${node.url}/v1/partitions/1/objects?limit=0`, { headers: auth })).status, 400);
  });

  t.test('credentials and roles', async (t) => {
    const url = objectUrl(node, p, key);
    const none = await fetch(url);
    t.equal(none.status, 401);
    t.equal((await fetch(url, { headers: { authorization: 'Bearer opera1.forged.token' } })).status, 401);
    const iat = Math.floor(Date.now() / 1000) - 7200;
    const { mintToken } = await import('../../src/crypto/tokens.js');
    const expired = mintToken(c.secrets.authority, { role: 'client', sub: 'old', iat, exp: iat + 60 });
    t.equal((await fetch(url, { headers: { authorization: `Bearer ${expired}` } })).status, 401);
    t.equal((await put(node, c.token('node', 'n9'), p, key, 'x')).status, 403, 'nodes do not write objects');
    const replicate = await fetch(`${node.url}/v1/partitions/${p}/replicate`, { method: 'POST', headers: auth, body: 'x' });
    t.equal(replicate.status, 403, 'clients do not replicate');
    t.equal((await fetch(`${node.url}/metrics`, { headers: auth })).status, 403);
    t.equal((await fetch(`${node.url}/healthz`)).status, 200, '/healthz is anonymous');
    const metrics = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${c.token('admin')}` } })).text();
    t.match(metrics, /opera_node_request_duration_seconds_count\{route="\/v1\/partitions\/\{p\}\/objects\/\{key\}",method="PUT",status="201"\}/);
    t.match(metrics, /opera_node_stored_bytes \d+/);
  });

  t.test('malformed replication messages from a node are refused', async (t) => {
    const nodeAuth = { authorization: `Bearer ${c.token('node', 'n7')}` };
    const garbage = await fetch(`${node.url}/v1/partitions/${p}/replicate`, { method: 'POST', headers: nodeAuth, body: Buffer.from([0, 0, 0, 3, 1, 2, 3]) });
    t.equal(garbage.status, 400);
    t.match(await garbage.json(), { error: { code: /^bad-body/ } });
    const fence = await fetch(`${node.url}/v1/partitions/${p}/epoch-start`, { method: 'POST', headers: { ...nodeAuth, 'content-type': 'application/json' }, body: JSON.stringify({ epoch: 1, primary: 'someone-else' }) });
    t.equal(fence.status, 400, 'a node speaks only for itself');
    const old = await fetch(`${node.url}/v1/partitions/${p}/epoch-start`, { method: 'POST', headers: { ...nodeAuth, 'content-type': 'application/json' }, body: JSON.stringify({ epoch: 1, primary: 'n7' }) });
    t.equal(old.status, 409, 'an older epoch, or a node that is not the primary, is refused');
    // The op log and the partition copy, as a new primary or a learner pulls them.
    const { OpsReader } = await import('../../src/node/wire/ops-codec.js');
    const { decodeExport } = await import('../../src/node/wire/export-codec.js');
    const opsRes = await fetch(`${node.url}/v1/partitions/${p}/ops?after=0&epoch=${epoch}`, { headers: nodeAuth });
    t.equal(opsRes.status, 200);
    const reader = new OpsReader(opsRes.body as unknown as AsyncIterable<Uint8Array>);
    const header = await reader.header();
    t.equal(header.partition, p);
    t.equal(header.fromSeq, 0);
    let count = 0;
    while ((await reader.next()) !== null) count++;
    t.equal(count, header.count);
    t.ok(header.toSeq > 0, 'the log since the start');
    t.equal((await fetch(`${node.url}/v1/partitions/${p}/ops?after=999999&epoch=${epoch}`, { headers: nodeAuth })).status, 409, 'ahead of the source: a full copy is needed');
    t.equal((await fetch(`${node.url}/v1/partitions/${p}/ops?after=0&epoch=${epoch + 5}`, { headers: nodeAuth })).status, 409, 'another epoch');
    const exportRes = await fetch(`${node.url}/v1/partitions/${p}/export?epoch=${epoch}`, { headers: nodeAuth });
    t.equal(exportRes.status, 200);
    let objects = 0;
    for await (const r of decodeExport(exportRes.body as unknown as AsyncIterable<Uint8Array>, p)) if (r.kind === 'object') objects++;
    t.ok(objects > 0, 'a copy of the partition');
    t.equal((await fetch(`${node.url}/v1/partitions/${p}/export?epoch=${epoch - 1}`, { headers: nodeAuth })).status, 409);
    const statusRes = await fetch(`${node.url}/v1/partitions/${p}/status`, { headers: nodeAuth });
    t.match(await statusRes.json(), { partition: p, role: 'primary', epoch, primary: { phase: 'active' } });
    const beacons = await fetch(`${node.url}/v1/beacons`, { method: 'POST', headers: { ...nodeAuth, 'content-type': 'application/json' }, body: JSON.stringify({ primary: 'n7', items: [{ partition: 1000, epoch: 1 }] }) });
    t.equal(beacons.status, 400);
  });
});
