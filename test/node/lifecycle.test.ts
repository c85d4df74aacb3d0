// Node lifecycle: identity and credentials files (0600, refused when others may read
// them), the one-time join through a gateway (a stand-in here, doing what the gateway's
// POST /v1/join does), heartbeats that turn the node `up`, a restart that reuses
// everything, and a SIGTERM drain that finishes the upload in flight before exiting.
import t from 'tap';
import { createServer } from 'node:http';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import { issueCertificate, mintToken, verifyToken } from '../../src/crypto/tokens.js';
import { decodeBase64url, encodeBase64url } from '../../src/crypto/base64url.js';
import { loadIdentity, loadOrCreateIdentity } from '../../src/node/identity.js';
import { loadCredentials } from '../../src/node/credentials.js';
import { joinThroughGateway, JoinError } from '../../src/node/join.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { freePort } from '../helpers/ports.js';
import { eventually, runOpera, spawnOpera } from '../helpers/processes.js';
import { objectUrl } from './cluster.js';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'opera-node-life-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('identity: made once, kept private, refused when others may read it', async (t) => {
  const dir = await tempDir(t);
  const first = await loadOrCreateIdentity(dir, 'n-test1');
  t.ok(first.created);
  t.equal(((await stat(join(dir, 'identity.json'))).mode & 0o777), 0o600);
  const again = await loadOrCreateIdentity(dir);
  t.notOk(again.created);
  t.equal(again.identity.nodeId, 'n-test1');
  t.ok(again.identity.publicKey.equals(first.identity.publicKey));
  await t.rejects(loadOrCreateIdentity(dir, 'n-other'), /belongs to node n-test1/);
  await chmod(join(dir, 'identity.json'), 0o644);
  await t.rejects(loadIdentity(dir), { code: 'insecure-permissions' });
  await t.rejects(loadOrCreateIdentity(await tempDir(t), 'Bad Id'), /must match/);
  const generated = await loadOrCreateIdentity(await tempDir(t));
  t.match(generated.identity.nodeId, /^n-[0-9a-f]{8}$/);
});

t.test('a join the gateway refuses is a clear error', async (t) => {
  const port = await freePort();
  const server = createServer((_req, res) => {
    res.writeHead(409, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'token-used', message: 'this join token was already used' } }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const { identity } = await loadOrCreateIdentity(await tempDir(t));
  await t.rejects(joinThroughGateway({ gateway: `http://127.0.0.1:${port}`, joinToken: 'x', identity, url: 'http://127.0.0.1:1', capacity: 1 }), { name: 'JoinError', code: 'token-used', status: 409 });
  await t.rejects(joinThroughGateway({ gateway: 'http://127.0.0.1:1', joinToken: 'x', identity, url: 'http://127.0.0.1:1', capacity: 1, timeoutMs: 2000 }), JoinError);
});

t.test('renewal signs a request the gateway can verify', async (t) => {
  const { generateClusterSecrets } = await import('../../src/crypto/secrets.js');
  const { verifyRequest, parseSignatureHeader } = await import('../../src/crypto/request-signing.js');
  const { createHash } = await import('node:crypto');
  const { renewThroughGateway } = await import('../../src/node/renewal.js');
  const secrets = generateClusterSecrets();
  const { identity } = await loadOrCreateIdentity(await tempDir(t), 'n-renew');
  const iat = Math.floor(Date.now() / 1000);
  const port = await freePort();
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void verifyRequest(secrets.authority.publicKey, {
        method: req.method!, path: req.url!, audience: 'gateway:c-1', bodyDigest: createHash('sha256').update(Buffer.concat(chunks)).digest(),
      }, parseSignatureHeader(req.headers.authorization), { nowSeconds: Math.floor(Date.now() / 1000), roles: ['node'], seen: (n) => seen.has(n) || !seen.add(n) })
        .then((claims) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ token: mintToken(secrets.authority, { role: 'node', sub: claims.sub, iat, exp: iat + 100 }), certificate: 'operacert1.new.cert' }));
        }, (err: Error) => {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'unauthenticated', message: err.message } }));
        });
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const credentials = {
    nodeId: 'n-renew', clusterId: 'c-1', gateway: `http://127.0.0.1:${port}`, metaEndpoints: ['http://127.0.0.1:1'],
    authorityPublicKey: Buffer.from(secrets.authority.publicKey),
    certificate: issueCertificate(secrets.authority, { role: 'node', sub: 'n-renew', iat, exp: iat + 1000, publicKey: identity.publicKey }),
    token: mintToken(secrets.authority, { role: 'node', sub: 'n-renew', iat, exp: iat + 10 }),
  };
  const renewed = await renewThroughGateway(identity, credentials);
  t.not(renewed.token, credentials.token);
  t.equal(verifyToken(secrets.authority.publicKey, renewed.token, iat).sub, 'n-renew');
  t.equal(renewed.certificate, 'operacert1.new.cert');
  await t.rejects(renewThroughGateway(identity, { ...credentials, clusterId: 'c-2' }), /refused/, 'another audience does not verify');
  await t.rejects(renewThroughGateway(identity, { ...credentials, gateway: null }), /did not join through a gateway/);
});

t.test('join once, heartbeat up, restart with the same identity, drain on SIGTERM', async (t) => {
  const meta = await startMetaCluster(t, 1, {}, { partitions: 4, replication: 1 });
  const secrets = await loadClusterSecrets(join(meta.dir, 'secrets.json'));
  const admin = meta.client();
  const clusterId = (await admin.watch(-1, 0)).settings!.clusterId;
  const now = (): number => Math.floor(Date.now() / 1000);

  // A stand-in gateway: POST /v1/join as docs/data-plane.md describes it.
  let joins = 0;
  const gatewayPort = await freePort();
  const gateway = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const claims = verifyToken(secrets.authority.publicKey, (req.headers.authorization ?? '').replace(/^Bearer /, ''), now());
          if (claims.role !== 'join') throw new Error('not a join token');
          const body = JSON.parse(Buffer.concat(chunks).toString()) as { nodeId: string; publicKey: string; url: string; capacity: number };
          const result = await admin.command({ type: 'node-join', nodeId: body.nodeId, url: body.url, publicKey: body.publicKey, capacity: body.capacity, tokenId: claims.id, tokenExpiresAt: claims.exp * 1000 });
          if (!result.ok) throw new Error(result.message);
          joins++;
          const iat = now();
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({
            nodeId: body.nodeId,
            certificate: issueCertificate(secrets.authority, { role: 'node', sub: body.nodeId, iat, exp: iat + 86_400, publicKey: decodeBase64url(body.publicKey)! }),
            token: mintToken(secrets.authority, { role: 'node', sub: body.nodeId, iat, exp: iat + 86_400 }),
            authorityPublicKey: encodeBase64url(secrets.authority.publicKey),
            metaEndpoints: [...meta.apis.values()],
            clusterId,
          }));
        } catch (err) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'bad-request', message: (err as Error).message } }));
        }
      })();
    });
  });
  await new Promise<void>((r) => gateway.listen(gatewayPort, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => gateway.close(() => r())));

  const dir = await tempDir(t);
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const url = `http://${listen}`;
  const env = { OPERA_LOG_LEVEL: 'warn' };
  const common = ['--listen', listen, '--dir', dir, '--lease-ms', '1200', '--heartbeat-ms', '300', '--no-fsync'];

  const notJoined = await runOpera(['node', 'start', ...common, '--id', 'n-life'], env);
  t.equal(notJoined.code, 2, 'without credentials and without a join token: a usage error');
  t.match(notJoined.stderr, /has not joined a cluster yet: give --gateway URL and --join-token/);

  const iat = now();
  const joinToken = mintToken(secrets.authority, { role: 'join', sub: 'operator', iat, exp: iat + 600 });
  let proc = spawnOpera(t, 'node', ['node', 'start', ...common, '--gateway', `http://127.0.0.1:${gatewayPort}`, '--join-token', joinToken, '--id', 'n-life'], env);
  await eventually('the node up in meta', async () => ((await admin.state()).state.nodes['n-life']?.state === 'up' ? true : undefined), 30_000)
    .catch((err: Error) => {
      t.comment(proc.output());
      throw err;
    });
  t.equal(joins, 1);
  const credentials = await loadCredentials(dir);
  t.equal(credentials?.nodeId, 'n-life');
  t.equal(credentials?.clusterId, clusterId);
  t.equal(((await stat(join(dir, 'credentials.json'))).mode & 0o777), 0o600, 'credentials.json is private');
  const health = (await (await fetch(`${url}/healthz`)).json()) as { nodeId: string };
  t.equal(health.nodeId, 'n-life');

  // Restart: same identity and credentials, no second join (the old token would be refused anyway).
  proc.kill('SIGTERM');
  t.equal(await proc.exited(), 0, 'a drained node exits 0');
  proc = spawnOpera(t, 'node', ['node', 'start', ...common, '--gateway', `http://127.0.0.1:${gatewayPort}`, '--join-token', joinToken], env);
  const before = (await admin.state()).state.nodes['n-life']!.lastHeartbeat!;
  await eventually('a heartbeat from the restarted node', async () => ((await admin.state()).state.nodes['n-life']!.lastHeartbeat! > before ? true : undefined), 30_000);
  t.equal(joins, 1, 'no second join');

  // Drain: an upload in flight when SIGTERM arrives still completes.
  const client = mintToken(secrets.authority, { role: 'client', sub: 'test', iat: now() - 5, exp: now() + 600 });
  const key = 'sol/drain';
  const { partitionOf } = await import('../../src/meta/placement.js');
  const p = partitionOf(key, 4);
  const target = { url, port, id: 'n-life', dir, proc: null, start: () => { throw new Error('unused'); }, kill: async () => {} };
  await eventually('the node serving writes', async () => {
    const r = await fetch(objectUrl(target, p, key), { method: 'PUT', headers: { authorization: `Bearer ${client}` }, body: 'x' }).catch(() => null);
    return r?.status === 201 || (r !== null && r.status !== 503 && r.status !== 409) ? true : undefined;
  }, 30_000);
  let sentFirst!: () => void;
  const firstSent = new Promise<void>((r) => (sentFirst = r));
  const pieces = 10;
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      pulls++;
      if (pulls > pieces) return controller.close();
      if (pulls === 2) sentFirst();
      await new Promise((r) => setTimeout(r, 150));
      controller.enqueue(Buffer.alloc(1000, pulls));
    },
  });
  const upload = fetch(objectUrl(target, p, key), { method: 'PUT', headers: { authorization: `Bearer ${client}`, 'content-length': String(pieces * 1000) }, body, duplex: 'half' } as RequestInit);
  await firstSent;
  let settledEarly: string | null = null;
  void upload.then(async (r) => (settledEarly = `${r.status} ${await r.clone().text()}`), (e: Error) => (settledEarly = e.message));
  await eventually('the upload under way at the node', async () => {
    if (settledEarly !== null) throw new Error(`the upload ended early: ${settledEarly}`);
    return ((await (await fetch(`${url}/healthz`)).json()) as { inFlight: number }).inFlight > 0 ? true : undefined;
  }, 10_000, 20);
  proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const refused = await fetch(`${url}/healthz`).then((r) => r.status, () => 'refused');
  t.not(refused, 200, `a new request during the drain is not served (${refused})`);
  const res = await upload;
  t.equal(res.status, 201, 'the upload in flight completed');
  t.equal(await proc.exited(), 0, 'then the node exited cleanly');
});
