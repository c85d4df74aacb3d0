// Tokens through the gateway: an admin mints, nobody else does; a revoked credential is
// refused on every route of every gateway (in-memory LiveStores: the second gateway
// learns it from meta) and by meta itself.
import { join } from 'node:path';
import t from 'tap';
import { verifyToken } from '../../src/crypto/tokens.js';
import { eventually } from '../helpers/processes.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { call, clusterSecrets, startTestGateway, token } from './helpers.js';

interface Minted {
  token: string;
  id: string;
  role: string;
  sub: string;
  expiresAt: number;
}

t.test('mint, refuse, revoke everywhere', async (t) => {
  const cluster = await startMetaCluster(t, 1);
  const secrets = await clusterSecrets(cluster);
  const gw1 = await startTestGateway(t, cluster, secrets);
  const gw2 = await startTestGateway(t, cluster, secrets);
  const admin = cluster.token;

  const mint = async (body: Record<string, unknown>, as = admin) => call<Minted>(gw1.url, '/v1/tokens', { token: as, json: body });

  let r = await mint({ role: 'client', ttl: '1h', sub: 'alice' });
  t.equal(r.status, 201, 'admin mints a client token');
  const client = r.body;
  const claims = verifyToken(secrets.authority.publicKey, client.token, Math.floor(Date.now() / 1000));
  t.match(claims, { role: 'client', sub: 'alice', id: client.id }, 'the token says what the answer says');
  t.equal(claims.exp - claims.iat, 3600, 'ttl 1h');
  t.equal(client.expiresAt, claims.exp * 1000, 'expiresAt in ms');
  t.equal((await mint({ role: 'sentinel', ttl: 90 })).body.sub, 'sentinel', 'ttl in seconds; sub defaults to the role');
  t.equal((await mint({ role: 'admin', ttl: '30m' })).status, 201, 'admin tokens too');

  r = await mint({ role: 'client', ttl: '1h' }, client.token);
  t.equal(r.status, 403, 'a client may not mint');
  t.equal(r.body.error?.code, 'forbidden');
  t.equal((await mint({ role: 'client', ttl: '1h' }, token(secrets, 'node', 'n1'))).status, 403, 'nor a node');
  for (const [what, body] of [
    ['gateway role', { role: 'gateway', ttl: '1h' }],
    ['meta role', { role: 'meta', ttl: '1h' }],
    ['no ttl', { role: 'client' }],
    ['bad ttl', { role: 'client', ttl: '1 hour' }],
    ['zero ttl', { role: 'client', ttl: 0 }],
    ['ttl beyond a year', { role: 'client', ttl: '400d' }],
    ['join token for a month', { role: 'join', ttl: '30d' }],
    ['control character in sub', { role: 'client', ttl: '1h', sub: 'a\nb' }],
    ['unknown field', { role: 'client', ttl: '1h', scope: 'all' }],
  ] as const) {
    r = await mint(body);
    t.equal(r.status, 400, `${what}: 400`);
    t.ok(r.body.error?.message, `${what}: says why (${r.body.error?.message})`);
  }

  const who = await call(gw2.url, '/v1/whoami', { token: client.token });
  t.match(who.body, { role: 'client', sub: 'alice', id: client.id }, 'whoami on the other gateway');

  // Revocation: a client token and an admin token (which meta would otherwise accept).
  const victimAdmin = (await mint({ role: 'admin', ttl: '1h', sub: 'bob' })).body;
  t.equal((await call(cluster.apis.get('m1')!, '/v1/meta/status', { token: victimAdmin.token })).status, 200, 'meta accepts the admin token');
  for (const victim of [client, victimAdmin]) {
    r = await call(gw1.url, '/v1/tokens/revoke', { token: admin, json: { id: victim.id, expiresAt: victim.expiresAt } });
    t.equal(r.status, 200, `revoke ${victim.sub}`);
    t.match(r.body, { id: victim.id, revokedUntil: victim.expiresAt, effective: true });
  }
  const routes: [string, Record<string, unknown>][] = [
    ['/v1/whoami', {}],
    ['/v1/route?key=sol/earth', {}],
    ['/v1/nodes', {}],
    ['/v1/keys/wrap', { json: { items: [{ objectKey: 'sol/earth', dataKey: 'A'.repeat(43) }] } }],
  ];
  for (const [path, extra] of routes) {
    r = await call(gw1.url, path, { ...extra, token: client.token });
    t.equal(r.status, 401, `revoked client on ${path}: 401`);
    t.equal(r.body.error?.code, 'credential-revoked');
  }
  t.equal((await call(gw1.url, '/v1/tokens', { token: victimAdmin.token, json: { role: 'client', ttl: '1h' } })).body.error?.code,
    'credential-revoked', 'revoked admin cannot mint');
  t.equal((await call(gw1.url, '/metrics', { token: victimAdmin.token })).status, 401, 'nor read metrics');
  const atMeta = await call(cluster.apis.get('m1')!, '/v1/meta/status', { token: victimAdmin.token });
  t.equal(atMeta.status, 401, 'meta refuses the revoked admin token too');
  t.equal(atMeta.body.error?.code, 'credential-revoked');
  // gw2 has its own memory LiveStore: it learns the revocation from meta on its next read.
  await eventually('gw2 to learn the revocation', async () => {
    const a = await call(gw2.url, '/v1/whoami', { token: client.token });
    return a.status === 401 && a.body.error?.code === 'credential-revoked' ? true : undefined;
  }, 15_000);
  t.pass('the other gateway refuses the revoked token too');
  t.equal((await call(gw2.url, '/v1/whoami', { token: victimAdmin.token })).status, 401, 'and the revoked admin');

  // A gateway started after the revocation knows it from its first read of meta (this one
  // talks to meta with the token in a file instead of minting its own).
  const gw3 = await startTestGateway(t, cluster, secrets, { metaTokenFile: join(cluster.dir, 'admin.token') });
  t.equal((await call(gw3.url, '/v1/whoami', { token: client.token })).body.error?.code, 'credential-revoked', 'a new gateway refuses it from the start');

  r = await call(gw1.url, '/v1/tokens/revoke', { token: admin, json: { id: 'not-an-id' } });
  t.equal(r.status, 400, 'bad id: 400');
  r = await call(gw1.url, '/v1/tokens/revoke', { token: admin, json: { id: 'a'.repeat(32), expiresAt: Date.now() - 1000 } });
  t.match(r.body, { effective: false }, 'revoking with a past expiry changes nothing');
  r = await call(gw1.url, '/v1/tokens/revoke', { token: client.token, json: { id: 'a'.repeat(32) } });
  t.equal(r.status, 401, 'a revoked client cannot revoke');
  r = await call(gw1.url, '/v1/tokens/revoke', { token: token(secrets, 'client', 'carol'), json: { id: 'a'.repeat(32) } });
  t.equal(r.status, 403, 'a client cannot revoke');
  const noExpiry = (await mint({ role: 'client', ttl: '1h' })).body;
  r = await call(gw1.url, '/v1/tokens/revoke', { token: admin, json: { id: noExpiry.id } });
  t.ok((r.body as unknown as { revokedUntil: number }).revokedUntil > Date.now() + 365 * 86400_000, 'without expiresAt the revocation outlives any token');
  t.equal((await call(gw1.url, '/v1/whoami', { token: noExpiry.token })).status, 401, 'and applies');
});
