import t from 'tap';
import { sha256 } from '../../src/crypto/digest.js';
import { CredentialError } from '../../src/crypto/errors.js';
import {
  EMPTY_BODY_DIGEST, formatSignatureHeader, parseSignatureHeader, signRequest, verifyRequest, type RequestSignature,
  type RequestToSign, type VerifyRequestOptions,
} from '../../src/crypto/request-signing.js';
import { Secret } from '../../src/crypto/secret.js';
import { generateAuthority } from '../../src/crypto/secrets.js';
import { signKeyPair } from '../../src/crypto/sodium.js';
import { issueCertificate } from '../../src/crypto/tokens.js';

const NOW = 1_700_000_000;
const authority = generateAuthority();
const keyPair = signKeyPair();
const certificate = issueCertificate(authority, { role: 'node', sub: 'node-1', publicKey: keyPair.publicKey, iat: NOW - 60, exp: NOW + 86400 });
const signer = { secretKey: new Secret(keyPair.secretKey, 'node key'), certificate };
const request: RequestToSign = {
  method: 'POST', path: '/v1/replicate/17?epoch=4', audience: 'node-2', bodyDigest: sha256('frame data'),
};

/** A fresh in-memory replay cache per test, recording what it was asked. */
function replayCache(): { seen: VerifyRequestOptions['seen']; calls: Array<[string, number]> } {
  const nonces = new Set<string>();
  const calls: Array<[string, number]> = [];
  return {
    calls,
    seen: (nonce, expiresAt) => {
      calls.push([nonce, expiresAt]);
      if (nonces.has(nonce)) return true;
      nonces.add(nonce);
      return false;
    },
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'ok', (err: unknown) => {
    if (err instanceof CredentialError) return err.code;
    throw err;
  });
}

t.test('a signed request verifies to the signer\'s certificate', async (t) => {
  const signature = signRequest(signer, request, NOW);
  const cache = replayCache();
  const claims = await verifyRequest(authority.publicKey, request, signature, { nowSeconds: NOW + 2, seen: cache.seen });
  t.match(claims, { role: 'node', sub: 'node-1' });
  t.ok(claims.publicKey.equals(keyPair.publicKey));
  t.same(cache.calls, [[signature.nonce, NOW + 30 + 1]], 'nonce recorded until it can no longer pass the skew check');
  const empty = { ...request, method: 'GET', bodyDigest: EMPTY_BODY_DIGEST };
  t.equal(await codeOf(verifyRequest(authority.publicKey, empty, signRequest(signer, empty, NOW), { nowSeconds: NOW, seen: cache.seen })), 'ok');
});

t.test('clock skew window', async (t) => {
  const signature = signRequest(signer, request, NOW);
  const check = (now: number, maxSkewSeconds?: number): Promise<string> =>
    codeOf(verifyRequest(authority.publicKey, request, signature, { nowSeconds: now, seen: replayCache().seen, maxSkewSeconds }));
  t.equal(await check(NOW + 30), 'ok', 'receiver 30s ahead');
  t.equal(await check(NOW - 30), 'ok', 'receiver 30s behind');
  t.equal(await check(NOW + 31), 'clock-skew', 'too old');
  t.equal(await check(NOW - 31), 'clock-skew', 'from the future');
  t.equal(await check(NOW + 5, 4), 'clock-skew', 'custom window');
});

t.test('replay is refused, and only authentic requests touch the replay cache', async (t) => {
  const cache = replayCache();
  const signature = signRequest(signer, request, NOW);
  const options = { nowSeconds: NOW, seen: cache.seen };
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signature, options)), 'ok');
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signature, options)), 'replay');
  const forgedSig = { ...signature, nonce: 'f'.repeat(32) };
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, forgedSig, options)), 'bad-signature');
  t.equal(cache.calls.length, 2, 'the forged request did not record its nonce');
  const asyncSeen = async (): Promise<boolean> => true;
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signRequest(signer, request, NOW), { nowSeconds: NOW, seen: asyncSeen })),
    'replay', 'an async (e.g. Redis) replay cache works');
});

t.test('every signed field is covered', async (t) => {
  const signature = signRequest(signer, request, NOW);
  const altered: Array<[string, RequestToSign, RequestSignature]> = [
    ['method', { ...request, method: 'PUT' }, signature],
    ['path', { ...request, path: '/v1/replicate/18?epoch=4' }, signature],
    ['query', { ...request, path: '/v1/replicate/17?epoch=5' }, signature],
    ['audience (replay to another member)', { ...request, audience: 'node-3' }, signature],
    ['body digest', { ...request, bodyDigest: sha256('other data') }, signature],
    ['timestamp', request, { ...signature, timestamp: NOW + 1 }],
    ['nonce', request, { ...signature, nonce: '0'.repeat(32) }],
  ];
  for (const [name, req, sig] of altered) {
    t.equal(await codeOf(verifyRequest(authority.publicKey, req, sig, { nowSeconds: NOW, seen: replayCache().seen })), 'bad-signature', name);
  }
});

t.test('the certificate must be valid, current and for the signing key', async (t) => {
  const options = (): VerifyRequestOptions => ({ nowSeconds: NOW, seen: replayCache().seen });
  const intruder = signKeyPair();
  const stolenCert = { secretKey: new Secret(intruder.secretKey), certificate };
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signRequest(stolenCert, request, NOW), options())),
    'bad-signature', 'someone else\'s certificate');
  const foreign = generateAuthority();
  const foreignCert = issueCertificate(foreign, { role: 'node', sub: 'node-1', publicKey: keyPair.publicKey, iat: NOW, exp: NOW + 60 });
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signRequest({ ...signer, certificate: foreignCert }, request, NOW), options())),
    'bad-signature', 'certificate from another cluster');
  const expiredCert = issueCertificate(authority, { role: 'node', sub: 'node-1', publicKey: keyPair.publicKey, iat: NOW - 7200, exp: NOW - 3600 });
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signRequest({ ...signer, certificate: expiredCert }, request, NOW), options())),
    'expired');
  const signature = signRequest(signer, request, NOW);
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signature, { ...options(), isRevoked: () => true })), 'revoked');
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signature, { ...options(), roles: ['meta'] })), 'wrong-role');
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, signature, { ...options(), roles: ['node', 'meta'] })), 'ok');
  // The signature binds the certificate: swapping in another valid certificate for the same key fails.
  const sentinelCert = issueCertificate(authority, { role: 'sentinel', sub: 'node-1', publicKey: keyPair.publicKey, iat: NOW, exp: NOW + 60 });
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, { ...signature, certificate: sentinelCert }, options())),
    'bad-signature', 'certificate swapped after signing');
});

t.test('signature header format', async (t) => {
  const signature = signRequest(signer, request, NOW);
  const header = formatSignatureHeader(signature);
  t.match(header, /^opera-sig1 cert=operacert1\.[^,]+,ts=1700000000,nonce=[0-9a-f]{32},sig=[A-Za-z0-9_-]{86}$/);
  t.same(parseSignatureHeader(header), signature);
  const bad: unknown[] = [
    undefined, '', 'opera-sig1', header.replace('opera-sig1', 'opera-sig2'), header.replace(',ts=', ', ts='),
    header.replace(/ts=\d+/, 'ts=-5'), header.replace(/ts=\d+/, 'ts=01'), header.replace(/nonce=[0-9a-f]+/, 'nonce=zz'),
    `${header},extra=1`, header.replace(/sig=.*/, 'sig=short'), `${header} `,
  ];
  for (const value of bad) t.throws(() => parseSignatureHeader(value), { code: 'malformed' }, JSON.stringify(value)?.slice(0, 50) ?? 'undefined');
});

t.test('bad input is refused clearly', async (t) => {
  t.throws(() => signRequest(signer, { ...request, method: 'post' }, NOW), /upper-case/);
  t.throws(() => signRequest(signer, { ...request, path: 'v1/x' }, NOW), /path/);
  t.throws(() => signRequest(signer, { ...request, path: '/a\nb' }, NOW), /path/);
  t.throws(() => signRequest(signer, { ...request, audience: '' }, NOW), /audience/);
  t.throws(() => signRequest(signer, { ...request, bodyDigest: Buffer.alloc(31) }, NOW), /32 bytes/);
  t.throws(() => signRequest(signer, request, NOW + 0.5), /integer seconds/);
  t.throws(() => signRequest(signer, request, NOW, 'nonce'), /nonce/);
  const signature = signRequest(signer, request, NOW);
  t.equal(await codeOf(verifyRequest(authority.publicKey, { ...request, method: 'get' }, signature, { nowSeconds: NOW, seen: replayCache().seen })), 'malformed');
  t.equal(await codeOf(verifyRequest(authority.publicKey, request, { ...signature, nonce: 'x' }, { nowSeconds: NOW, seen: replayCache().seen })), 'malformed');
});
