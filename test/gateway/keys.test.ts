// The key service over HTTP: wrap and unwrap round trip in batches, per-item failures,
// batch and field limits, roles, and no unwrapping once the credential is revoked.
import t from 'tap';
import { decodeBase64url, encodeBase64url } from '../../src/crypto/base64url.js';
import { unwrapDataKey } from '../../src/crypto/key-wrap.js';
import { randomBytes } from '../../src/crypto/sodium.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { call, clusterSecrets, startTestGateway, token } from './helpers.js';

interface Wrapped {
  kekName: string;
  kekVersion: number;
  nonce: string;
  wrappedKey: string;
}
type Unwrapped = { ok: true; dataKey: string } | { ok: false; error: { code: string; message: string } };

t.test('wrap and unwrap', async (t) => {
  const cluster = await startMetaCluster(t, 1);
  const secrets = await clusterSecrets(cluster);
  const gw = await startTestGateway(t, cluster, secrets);
  const minted = await call<{ token: string; id: string; expiresAt: number }>(gw.url, '/v1/tokens', {
    token: cluster.token, json: { role: 'client', ttl: '1h', sub: 'importer' },
  });
  const client = minted.body;

  const keys = Array.from({ length: 5 }, (_, i) => ({ objectKey: `hip/${71683 + i}`, dataKey: randomBytes(32) }));
  const wrap = await call<{ items: Wrapped[] }>(gw.url, '/v1/keys/wrap', {
    token: client.token, json: { items: keys.map((k) => ({ objectKey: k.objectKey, dataKey: encodeBase64url(k.dataKey) })) },
  });
  t.equal(wrap.status, 200, 'wrap a batch');
  t.equal(wrap.headers.get('cache-control'), 'no-store', 'key answers are not cached');
  t.equal(wrap.body.items.length, keys.length, 'one wrapped key per item');
  t.match(wrap.body.items[0], { kekName: 'kek', kekVersion: 1 }, 'wrapped with the current KEK');
  // The wrap is the envelope format's: the KEK itself unwraps it.
  const local = unwrapDataKey(secrets.keks[0]!, keys[0]!.objectKey, {
    kekName: 'kek', kekVersion: 1, nonce: decodeBase64url(wrap.body.items[0]!.nonce)!, wrappedKey: decodeBase64url(wrap.body.items[0]!.wrappedKey)!,
  });
  t.ok(local.expose().equals(keys[0]!.dataKey), 'interoperable with src/crypto');

  const items = keys.map((k, i) => ({ objectKey: k.objectKey, header: wrap.body.items[i]! }));
  items.push({ objectKey: 'hip/other', header: wrap.body.items[0]! });
  items.push({ objectKey: keys[1]!.objectKey, header: { ...wrap.body.items[1]!, kekVersion: 9 } });
  const unwrap = await call<{ items: Unwrapped[] }>(gw.url, '/v1/keys/unwrap', { token: client.token, json: { items } });
  t.equal(unwrap.status, 200, 'unwrap a batch');
  keys.forEach((k, i) => {
    const item = unwrap.body.items[i]!;
    t.ok(item.ok && decodeBase64url(item.dataKey)!.equals(k.dataKey), `item ${i} round trips`);
  });
  t.match(unwrap.body.items[5], { ok: false, error: { code: 'unwrap-failed' } }, 'a header moved to another key fails alone');
  t.match(unwrap.body.items[6], { ok: false, error: { code: 'unknown-kek' } }, 'an unknown KEK version fails alone');

  // Limits and rules.
  const batch = (n: number) => ({ items: Array.from({ length: n }, (_, i) => ({ objectKey: `gaia-dr3/${i}`, dataKey: encodeBase64url(randomBytes(32)) })) });
  t.equal((await call(gw.url, '/v1/keys/wrap', { token: client.token, json: batch(1000) })).status, 200, '1000 items in one call');
  let r = await call(gw.url, '/v1/keys/wrap', { token: client.token, json: batch(1001) });
  t.equal(r.status, 400, '1001 items: 400');
  t.match(r.body.error?.message, /1\.\.1000/);
  t.equal((await call(gw.url, '/v1/keys/wrap', { token: client.token, json: { items: [] } })).status, 400, 'empty batch: 400');
  r = await call(gw.url, '/v1/keys/wrap', { token: client.token, json: { items: [{ objectKey: 'sol//earth', dataKey: encodeBase64url(randomBytes(32)) }] } });
  t.equal(r.status, 400, 'bad object key: 400');
  t.match(r.body.error?.message, /items\[0\].*objectKey.*segment/, 'names the item and the rule');
  r = await call(gw.url, '/v1/keys/wrap', { token: client.token, json: { items: [{ objectKey: 'sol/earth', dataKey: encodeBase64url(randomBytes(16)) }] } });
  t.equal(r.status, 400, 'short data key: 400');
  r = await call(gw.url, '/v1/keys/unwrap', { token: client.token, json: { items: [{ objectKey: 'sol/earth', header: { ...wrap.body.items[0]!, nonce: 'AA' } }] } });
  t.equal(r.status, 400, 'bad nonce: 400');
  t.match(r.body.error?.message, /nonce/);

  // Roles.
  t.equal((await call(gw.url, '/v1/keys/unwrap', { token: token(secrets, 'node', 'n1'), json: { items } })).status, 403, 'nodes never unwrap');
  t.equal((await call(gw.url, '/v1/keys/unwrap', { token: token(secrets, 'sentinel'), json: { items } })).status, 403, 'nor sentinels');
  t.equal((await call(gw.url, '/v1/keys/unwrap', { token: cluster.token, json: { items } })).status, 200, 'admins may');

  // Revoked: no more unwrapping.
  r = await call(gw.url, '/v1/tokens/revoke', { token: cluster.token, json: { id: client.id, expiresAt: client.expiresAt } });
  t.equal(r.status, 200, 'revoke the importer');
  r = await call(gw.url, '/v1/keys/unwrap', { token: client.token, json: { items } });
  t.equal(r.status, 401, 'a revoked credential can no longer unwrap');
  t.equal(r.body.error?.code, 'credential-revoked');
  t.notOk(JSON.stringify(r.body).includes('dataKey'), 'and gets no key material');
});
