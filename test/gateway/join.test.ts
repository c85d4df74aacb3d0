// Node admission through the gateway: a join token works once (also when two gateways
// sharing one Redis see it at the same moment), bad tokens and bad bodies are refused,
// and a node renews its token with a signed request that cannot be replayed.
import t from 'tap';
import { encodeBase64url } from '../../src/crypto/base64url.js';
import { EMPTY_BODY_DIGEST, formatSignatureHeader, signRequest } from '../../src/crypto/request-signing.js';
import { generateClusterSecrets } from '../../src/crypto/secrets.js';
import { Secret } from '../../src/crypto/secret.js';
import { signKeyPair } from '../../src/crypto/sodium.js';
import { verifyCertificate, verifyToken } from '../../src/crypto/tokens.js';
import { gatewayAudience } from '../../src/gateway/auth.js';
import { startRedis } from '../helpers/redis-server.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { call, clusterSecrets, startTestGateway, token } from './helpers.js';

t.test('join, reuse, races, bad tokens and renewal', async (t) => {
  const [cluster, redis] = await Promise.all([startMetaCluster(t, 1), startRedis(t)]);
  const secrets = await clusterSecrets(cluster);
  const prefix = 'join-test:';
  const gw1 = await startTestGateway(t, cluster, secrets, { liveStoreUrl: redis.url, prefix });
  const gw2 = await startTestGateway(t, cluster, secrets, { liveStoreUrl: redis.url, prefix });
  const admin = cluster.token;
  const nowS = Math.floor(Date.now() / 1000);

  const joinToken = async (): Promise<{ token: string; id: string }> => {
    const r = await call<{ token: string; id: string }>(gw1.url, '/v1/tokens', { token: admin, json: { role: 'join', ttl: '10m' } });
    t.equal(r.status, 201, 'admin mints a join token');
    return r.body;
  };
  const node = (id: string, zone = 'z1') => {
    const keys = signKeyPair();
    return { keys, body: { nodeId: id, publicKey: encodeBase64url(keys.publicKey), url: `http://127.0.0.1:${9000 + id.length}`, zone, capacity: 10 } };
  };

  // Bad bodies are refused before meta sees anything: the token is not used up.
  const first = await joinToken();
  const n1 = node('n1');
  const bad: [string, Record<string, unknown>][] = [
    ['upper-case node id', { ...n1.body, nodeId: 'N1' }],
    ['url without port', { ...n1.body, url: 'http://127.0.0.1' }],
    ['url with a path', { ...n1.body, url: 'http://127.0.0.1:9000/x' }],
    ['ftp url', { ...n1.body, url: 'ftp://127.0.0.1:9000' }],
    ['capacity 0', { ...n1.body, capacity: 0 }],
    ['fractional capacity', { ...n1.body, capacity: 1.5 }],
    ['short public key', { ...n1.body, publicKey: encodeBase64url(Buffer.alloc(31)) }],
    ['padded base64', { ...n1.body, publicKey: Buffer.alloc(32).toString('base64') }],
    ['long zone', { ...n1.body, zone: 'z'.repeat(40) }],
    ['unknown field', { ...n1.body, extra: 1 }],
    ['missing capacity', { nodeId: 'n1', publicKey: n1.body.publicKey, url: n1.body.url }],
  ];
  for (const [what, body] of bad) {
    const r = await call(gw1.url, '/v1/join', { token: first.token, json: body });
    t.equal(r.status, 400, `${what}: 400`);
    t.equal(r.body.error?.code, 'bad-request');
  }

  const joined = await call<Record<string, unknown>>(gw1.url, '/v1/join', { token: first.token, json: n1.body });
  t.equal(joined.status, 201, 'the join token admits a node');
  const j = joined.body as { certificate: string; token: string; authorityPublicKey: string; metaEndpoints: string[]; clusterId: string; nodeId: string };
  const cert = verifyCertificate(secrets.authority.publicKey, j.certificate, nowS);
  t.match(cert, { role: 'node', sub: 'n1' }, 'certificate for the node');
  t.ok(cert.publicKey.equals(n1.keys.publicKey), 'certificate binds the node key');
  t.match(verifyToken(secrets.authority.publicKey, j.token, nowS), { role: 'node', sub: 'n1' }, 'node token');
  t.ok(verifyToken(secrets.authority.publicKey, j.token, nowS).exp - nowS >= 29 * 86400, 'node token lives about 30 days');
  t.equal(j.authorityPublicKey, encodeBase64url(secrets.authority.publicKey));
  t.same(j.metaEndpoints, [...cluster.apis.values()]);
  const { state } = await cluster.client().state();
  t.equal(j.clusterId, state.settings?.clusterId, 'cluster id');
  t.match(state.nodes['n1'], { state: 'joining', zone: 'z1', capacity: 10, url: n1.body.url }, 'meta has the node');

  const again = await call(gw2.url, '/v1/join', { token: first.token, json: node('n2').body });
  t.equal(again.status, 409, 'the same join token a second time (on another gateway): 409');
  t.equal(again.body.error?.code, 'token-used');

  // Two gateways, one token, at the same moment: exactly one join.
  for (let round = 0; round < 3; round++) {
    const shared = await joinToken();
    const answers = await Promise.all([
      call(gw1.url, '/v1/join', { token: shared.token, json: node(`race${round}a`).body }),
      call(gw2.url, '/v1/join', { token: shared.token, json: node(`race${round}b`).body }),
    ]);
    const statuses = answers.map((a) => a.status).sort();
    t.same(statuses, [201, 409], `round ${round}: one join succeeds, the other is refused`);
    t.equal(answers.find((a) => a.status === 409)?.body.error?.code, 'token-used');
  }

  const expired = token(secrets, 'join', 'op', -7200, -3600);
  let r = await call(gw1.url, '/v1/join', { token: expired, json: node('n3').body });
  t.equal(r.status, 401, 'expired join token: 401');
  t.equal(r.body.error?.code, 'credential-expired');
  const forged = token(generateClusterSecrets(), 'join');
  r = await call(gw1.url, '/v1/join', { token: forged, json: node('n3').body });
  t.equal(r.status, 401, 'forged join token: 401');
  t.equal(r.body.error?.code, 'credential-bad-signature');
  r = await call(gw1.url, '/v1/join', { token: token(secrets, 'client'), json: node('n3').body });
  t.equal(r.status, 403, 'a client token cannot join: 403');
  r = await call(gw1.url, '/v1/join', { token: admin, json: node('n3').body });
  t.equal(r.status, 403, 'an admin token is not a join token: 403');
  r = await call(gw1.url, '/v1/join', { json: node('n3').body });
  t.equal(r.status, 401, 'no token: 401');

  // Renewal: signed with the node's certificate; the nonce works once across both gateways.
  const signer = { secretKey: new Secret(n1.keys.secretKey, 'node key'), certificate: j.certificate };
  const clusterId = j.clusterId;
  const sign = (nonceTime = Math.floor(Date.now() / 1000)): string =>
    formatSignatureHeader(signRequest(signer, { method: 'POST', path: '/v1/renew', audience: gatewayAudience(clusterId), bodyDigest: EMPTY_BODY_DIGEST }, nonceTime));
  const header = sign();
  r = await call(gw1.url, '/v1/renew', { method: 'POST', headers: { authorization: header } });
  t.equal(r.status, 200, 'a signed renewal gives a fresh token');
  t.match(verifyToken(secrets.authority.publicKey, (r.body as { token: string }).token, nowS), { role: 'node', sub: 'n1' });
  t.ok(verifyCertificate(secrets.authority.publicKey, (r.body as { certificate: string }).certificate, nowS).publicKey.equals(n1.keys.publicKey), 'and a fresh certificate');
  r = await call(gw2.url, '/v1/renew', { method: 'POST', headers: { authorization: header } });
  t.equal(r.status, 401, 'the same signed request replayed on the other gateway: 401');
  t.equal(r.body.error?.code, 'credential-replay');
  r = await call(gw1.url, '/v1/renew', { method: 'POST', headers: { authorization: sign(Math.floor(Date.now() / 1000) - 600) } });
  t.equal(r.body.error?.code, 'credential-clock-skew', 'an old signature is refused');
  r = await call(gw1.url, '/v1/renew', { method: 'POST', token: j.token });
  t.equal(r.status, 401, 'a bearer token does not renew');
  const stranger = signKeyPair();
  const { issueCertificate } = await import('../../src/crypto/tokens.js');
  const strangerCert = issueCertificate(secrets.authority, { role: 'node', sub: 'ghost', iat: nowS, exp: nowS + 600, publicKey: stranger.publicKey });
  const ghost = formatSignatureHeader(signRequest({ secretKey: new Secret(stranger.secretKey), certificate: strangerCert },
    { method: 'POST', path: '/v1/renew', audience: gatewayAudience(clusterId), bodyDigest: EMPTY_BODY_DIGEST }, Math.floor(Date.now() / 1000)));
  r = await call(gw1.url, '/v1/renew', { method: 'POST', headers: { authorization: ghost } });
  t.equal(r.status, 403, 'a certificate for a node meta never admitted: 403');
});
