// Token exchange: a client or admin token opens a short-lived session that the gateway,
// meta and storage nodes accept like a token; it expires, ends with its parent's
// revocation or a logout, and is shared by gateways on one Redis.
import t from 'tap';
import { mintToken, newTokenId, verifyToken } from '../../src/crypto/tokens.js';
import { startRedis } from '../helpers/redis-server.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { call, clusterSecrets, startTestGateway, token } from './helpers.js';

interface Opened {
  session: string;
  id: string;
  parent: string;
  role: string;
  sub: string;
  expiresAt: number;
}

const WRAP = { json: { items: [{ objectKey: 'sol/earth', dataKey: 'A'.repeat(43) }] } };

t.test('exchange, use, refuse, revoke, log out, expire', async (t) => {
  const cluster = await startMetaCluster(t, 1);
  const secrets = await clusterSecrets(cluster);
  let skewMs = 0;
  const gw = await startTestGateway(t, cluster, secrets, { now: () => Date.now() + skewMs });
  const admin = cluster.token;
  const mint = async (role: string, ttl: string | number, sub?: string) =>
    (await call<{ token: string; id: string; expiresAt: number }>(gw.url, '/v1/tokens', { token: admin, json: { role, ttl, ...(sub ? { sub } : {}) } })).body;
  const exchange = (bearer: string, body?: unknown) =>
    call<Opened>(gw.url, '/v1/sessions', { method: 'POST', token: bearer, ...(body !== undefined ? { json: body } : {}) });

  const alice = await mint('client', '1h', 'alice');
  let r = await exchange(alice.token);
  t.equal(r.status, 201, 'a client token opens a session (empty body)');
  t.equal(r.headers.get('cache-control'), 'no-store');
  const s1 = r.body;
  t.match(s1, { parent: alice.id, role: 'client', sub: 'alice' });
  const claims = verifyToken(secrets.authority.publicKey, s1.session, Math.floor(Date.now() / 1000));
  t.equal(claims.parent, alice.id, 'the session is a signed token naming its parent');
  t.equal(claims.exp - claims.iat, 15 * 60, 'lasts 15 minutes by default');
  t.equal(s1.expiresAt, claims.exp * 1000);

  let who = await call(gw.url, '/v1/whoami', { token: s1.session });
  t.match(who.body, { id: s1.id, role: 'client', sub: 'alice', parent: alice.id }, 'whoami with the session');
  t.equal((await call(gw.url, '/v1/keys/wrap', { ...WRAP, token: s1.session })).status, 200, 'the session unwraps and wraps keys like the token');

  r = await exchange(alice.token, { ttl: '90s' });
  t.equal(r.status, 201, 'a shorter session on request');
  t.equal(r.body.expiresAt - Math.floor(Date.now() / 1000) * 1000 <= 91_000, true, 'of at most 90 s');
  r = await exchange(alice.token, { ttl: '1h' });
  t.equal(r.status, 400, 'never longer than the gateway allows');
  t.match(r.body.error?.message, /at most 15m/);
  r = await exchange(alice.token, { ttl: '5m', scope: 'all' });
  t.equal(r.status, 400, 'unknown fields are refused');
  const short = await mint('admin', 120, 'carol');
  r = await exchange(short.token);
  t.equal(r.status, 201, 'an admin token opens a session');
  t.equal(r.body.expiresAt, short.expiresAt, 'never longer than the token itself');
  t.equal((await call(cluster.apis.get('m1')!, '/v1/meta/status', { token: r.body.session })).status, 200, 'meta verifies an admin session offline');

  for (const role of ['node', 'sentinel', 'join'] as const) {
    r = await exchange(token(secrets, role));
    t.equal(r.status, 403, `a ${role} token cannot open a session`);
  }
  r = await exchange(s1.session);
  t.equal(r.status, 403, 'a session cannot open another one');
  t.equal((await exchange('opera1.garbage.x')).status, 401, 'garbage: 401');

  // Forged and unknown sessions.
  const [prefix, payload, signature] = s1.session.split('.') as [string, string, string];
  const forged = `${prefix}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  r = await call(gw.url, '/v1/whoami', { token: forged });
  t.equal(r.status, 401, 'a forged session: 401');
  t.equal(r.body.error?.code, 'credential-bad-signature');
  const now = Math.floor(Date.now() / 1000);
  const unknown = mintToken(secrets.authority, { role: 'client', sub: 'alice', iat: now, exp: now + 600, parent: alice.id });
  r = await call(gw.url, '/v1/whoami', { token: unknown });
  t.equal(r.status, 401, 'a well-signed session the gateway never opened: 401');
  t.equal(r.body.error?.code, 'credential-session-ended');
  const orphan = mintToken(secrets.authority, { role: 'client', sub: 'x', iat: now, exp: now + 600, parent: newTokenId() });
  t.equal((await call(gw.url, '/v1/keys/wrap', { ...WRAP, token: orphan })).status, 401, 'nor one of a parent it never saw');

  // Logout ends the session here, and in meta (which storage nodes read too).
  const bob = await mint('admin', '1h', 'bob');
  const sb = (await exchange(bob.token)).body;
  t.equal((await call(cluster.apis.get('m1')!, '/v1/meta/status', { token: sb.session })).status, 200, 'before logout meta accepts it');
  r = await call(gw.url, '/v1/sessions/current', { method: 'DELETE', token: alice.token });
  t.equal(r.status, 400, 'a long-lived token is not logged out');
  t.equal(r.body.error?.code, 'not-a-session');
  r = await call(gw.url, '/v1/sessions/current', { method: 'DELETE', token: sb.session });
  t.equal(r.status, 200, 'logout');
  t.same(r.body, { id: sb.id, ended: true });
  r = await call(gw.url, '/v1/whoami', { token: sb.session });
  t.equal(r.status, 401, 'the ended session is refused');
  t.equal((await call(cluster.apis.get('m1')!, '/v1/meta/status', { token: sb.session })).status, 401, 'by meta too');
  t.equal((await call(gw.url, '/v1/whoami', { token: bob.token })).status, 200, 'the token itself still works');
  t.equal((await exchange(bob.token)).status, 201, 'and opens a new session');

  // Revoking the parent ends its sessions.
  const s2 = (await exchange(alice.token)).body;
  r = await call(gw.url, '/v1/tokens/revoke', { token: admin, json: { id: alice.id, expiresAt: alice.expiresAt } });
  t.equal(r.status, 200, 'revoke alice\'s token');
  for (const s of [s1, s2]) {
    r = await call(gw.url, '/v1/keys/wrap', { ...WRAP, token: s.session });
    t.equal(r.status, 401, `session ${s.id.slice(0, 6)} ends with its token`);
    t.equal(r.body.error?.code, 'credential-revoked');
  }
  t.equal((await exchange(alice.token)).status, 401, 'the revoked token opens no session');

  // Expiry, with the gateway's clock moved on.
  const dave = await mint('client', '1h', 'dave');
  const sd = (await exchange(dave.token)).body;
  t.equal((await call(gw.url, '/v1/whoami', { token: sd.session })).status, 200);
  skewMs = 15 * 60_000;
  r = await call(gw.url, '/v1/whoami', { token: sd.session });
  t.equal(r.status, 401, 'at its expiry the gateway refuses the session');
  t.equal(r.body.error?.code, 'credential-expired');
  who = await call(gw.url, '/v1/whoami', { token: dave.token });
  t.equal(who.status, 200, 'the token still works');
  r = await exchange(dave.token);
  t.equal(r.status, 201, 'and opens a fresh session');
  t.equal((await call(gw.url, '/v1/whoami', { token: r.body.session })).status, 200, 'which works');
});

t.test('two gateways sharing one Redis accept each other\'s sessions', async (t) => {
  const redis = await startRedis(t);
  const cluster = await startMetaCluster(t, 1);
  const secrets = await clusterSecrets(cluster);
  const prefix = `sess${Date.now()}:`;
  const gw1 = await startTestGateway(t, cluster, secrets, { liveStoreUrl: redis.url, prefix });
  const gw2 = await startTestGateway(t, cluster, secrets, { liveStoreUrl: redis.url, prefix });
  const admin = cluster.token;
  const client = (await call<{ token: string; id: string }>(gw1.url, '/v1/tokens', { token: admin, json: { role: 'client', ttl: '1h', sub: 'erin' } })).body;

  const opened = await call<Opened>(gw1.url, '/v1/sessions', { method: 'POST', token: client.token });
  t.equal(opened.status, 201, 'opened on the first gateway');
  const s = opened.body.session;
  t.match((await call(gw2.url, '/v1/whoami', { token: s })).body, { id: opened.body.id, parent: client.id }, 'accepted by the second');
  t.equal((await call(gw2.url, '/v1/keys/wrap', { ...WRAP, token: s })).status, 200, 'for keys too');

  const r = await call(gw2.url, '/v1/sessions/current', { method: 'DELETE', token: s });
  t.equal(r.status, 200, 'logged out on the second gateway');
  const after = await call(gw1.url, '/v1/whoami', { token: s });
  t.equal(after.status, 401, 'the first refuses it at once');

  // A parent revoked through one gateway ends its sessions on the other at once.
  const s3 = (await call<Opened>(gw2.url, '/v1/sessions', { method: 'POST', token: client.token })).body.session;
  t.equal((await call(gw1.url, '/v1/whoami', { token: s3 })).status, 200);
  t.equal((await call(gw2.url, '/v1/tokens/revoke', { token: admin, json: { id: client.id } })).status, 200);
  const refused = await call(gw1.url, '/v1/whoami', { token: s3 });
  t.equal(refused.status, 401, 'revoked on one gateway, refused on the other');
  t.equal(refused.body.error?.code, 'credential-revoked');
});
