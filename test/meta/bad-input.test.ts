// Bad input to a meta member: unauthenticated, wrong-role, malformed and oversized
// requests to the API, and garbage on the Raft port, are refused and change nothing.
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import { mintToken } from '../../src/crypto/tokens.js';
import { startMetaCluster } from './cluster-helpers.js';

t.test('the API and the Raft port refuse bad input and stay up', async (t) => {
  const cluster = await startMetaCluster(t, 1);
  const api = cluster.apis.get('m1')!;
  const secrets = await loadClusterSecrets(join(cluster.dir, 'secrets.json'));
  const now = Math.floor(Date.now() / 1000);
  const client = mintToken(secrets.authority, { role: 'client', sub: 'someone', iat: now, exp: now + 600 });
  const node = mintToken(secrets.authority, { role: 'node', sub: 'n1', iat: now, exp: now + 600 });
  const expired = mintToken(secrets.authority, { role: 'admin', sub: 'old', iat: now - 7200, exp: now - 3600 });
  const { generateClusterSecrets } = await import('../../src/crypto/secrets.js');
  const forged = mintToken(generateClusterSecrets().authority, { role: 'admin', sub: 'mallory', iat: now, exp: now + 600 });
  const before = await cluster.client().state();

  const call = async (path: string, init: RequestInit = {}, token?: string): Promise<{ status: number; body: { error?: { code: string; message: string } } }> => {
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(api + path, { ...init, headers });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };
  const cmd = (command: unknown, seq = 1): RequestInit => ({
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'bad-input', seq, command }),
  });

  t.equal((await call('/healthz')).status, 200, '/healthz is anonymous');
  let r = await call('/v1/meta/status');
  t.equal(r.status, 401, 'no credential: 401');
  t.equal(r.body.error?.code, 'unauthenticated');
  t.equal((await call('/metrics')).status, 401, '/metrics needs a credential');
  r = await call('/v1/meta/status', {}, 'not-a-token');
  t.equal(r.status, 401, 'garbage token: 401');
  t.match(r.body.error?.code, /^credential-/);
  t.equal((await call('/v1/meta/status', {}, expired)).body.error?.code, 'credential-expired', 'expired token refused');
  t.equal((await call('/v1/meta/status', {}, forged)).body.error?.code, 'credential-bad-signature', 'forged token refused');
  r = await call('/v1/meta/status', {}, client);
  t.equal(r.status, 403, 'a client token may not read meta: 403');
  r = await call('/v1/meta/commands', cmd({ type: 'revoke', credentialId: 'x', expiresAt: Date.now() + 60_000 }), node);
  t.equal(r.status, 403, 'a node may not revoke credentials');
  r = await call('/v1/meta/members', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"remove","id":"m1"}' }, node);
  t.equal(r.status, 403, 'only admins change membership');

  const admin = cluster.token;
  r = await call('/v1/meta/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"clientId": "x", "seq": 1, "command": ' }, admin);
  t.equal(r.status, 400, 'truncated JSON: 400');
  t.equal(r.body.error?.code, 'bad-json');
  r = await call('/v1/meta/commands', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }, admin);
  t.equal(r.status, 415, 'wrong content type: 415');
  r = await call('/v1/meta/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(2 << 20) }) }, admin);
  t.equal(r.status, 413, 'oversized body: 413');
  r = await call('/v1/meta/commands', cmd({ type: 'no-such-command' }), admin);
  t.equal(r.status, 200, 'an unknown command is answered');
  t.match((r.body as { result?: { ok: boolean; code: string } }).result, { ok: false, code: 'invalid' }, 'and refused by the state machine');
  r = await call('/v1/meta/commands', cmd({ type: 'revoke', credentialId: '', expiresAt: 'soon' }, 2), admin);
  t.match((r.body as { result?: { ok: boolean } }).result, { ok: false }, 'invalid fields refused');
  r = await call('/v1/meta/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'x', seq: -1, command: { type: 'revoke' } }) }, admin);
  t.equal(r.status, 400, 'bad sequence: 400');
  t.equal((await call('/v1/meta/state?consistency=sometimes', {}, admin)).status, 400, 'bad query: 400');
  t.equal((await call('/v1/nothing-here', {}, admin)).status, 404, 'unknown route: 404 JSON');

  // Garbage on the Raft port: the connection is closed, the member keeps running.
  const member = JSON.parse(await readFile(join(cluster.dir, 'm1', 'member.json'), 'utf8')) as { address: { raft: string } };
  const [host, port] = member.address.raft.split(':');
  for (const junk of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.alloc(64, 0xff), Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5])]) {
    await new Promise<void>((resolve) => {
      const s = connect(Number(port), host!, () => s.write(junk));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.setTimeout(6000, () => s.destroy());
    });
  }
  t.pass('raft port closed every garbage connection');

  const after = await cluster.client().state();
  t.same(Object.keys(after.state.revoked), Object.keys(before.state.revoked), 'nothing changed the state');
  t.equal((await call('/healthz')).status, 200, 'still up');
});
