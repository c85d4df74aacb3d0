import t from 'tap';
import { CredentialError } from '../../src/crypto/errors.js';
import { generateAuthority } from '../../src/crypto/secrets.js';
import { encodeSigned, MAX_SIGNED_STRING_LENGTH } from '../../src/crypto/signed-string.js';
import { signDetached, signKeyPair } from '../../src/crypto/sodium.js';
import {
  DEFAULT_LEEWAY_SECONDS, issueCertificate, mintToken, requireRole, verifyCertificate, verifyToken, type TokenClaims,
} from '../../src/crypto/tokens.js';
import { prng, randomInt, testSeed } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set CRYPTO_TEST_SEED to replay)`);
const rand = prng(seed);
const authority = generateAuthority();
const other = generateAuthority();
const NOW = 1_700_000_000;
const claims = { role: 'client', sub: 'alice', iat: NOW, exp: NOW + 3600 } as const;

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof CredentialError) return err.code;
    throw err;
  }
}

t.test('a valid token verifies to its claims', async (t) => {
  const token = mintToken(authority, claims);
  t.match(token, /^opera1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
  const verified = verifyToken(authority.publicKey, token, NOW + 10);
  t.match(verified, { role: 'client', sub: 'alice', iat: NOW, exp: NOW + 3600 });
  t.match(verified.id, /^[0-9a-f]{32}$/);
  const fixed = mintToken(authority, { ...claims, id: '0123456789abcdef0123456789abcdef' });
  t.equal(verifyToken(authority.publicKey, fixed, NOW).id, '0123456789abcdef0123456789abcdef');
  t.not(verifyToken(authority.publicKey, mintToken(authority, claims), NOW).id, verified.id, 'ids are random');
});

t.test('expiry and not-before, with leeway', async (t) => {
  const token = mintToken(authority, claims);
  const L = DEFAULT_LEEWAY_SECONDS;
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW + 3600 + L - 1)), 'ok', 'inside the leeway');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW + 3600 + L)), 'expired');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW + 3600, { leewaySeconds: 0 })), 'expired', 'exp is exclusive');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW + 3599, { leewaySeconds: 0 })), 'ok');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW - L)), 'ok', 'issuer clock slightly ahead');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW - L - 1)), 'not-yet-valid');
  t.throws(() => verifyToken(authority.publicKey, token, Number.NaN), /finite/);
});

t.test('forged and tampered tokens are refused', async (t) => {
  t.equal(codeOf(() => verifyToken(authority.publicKey, mintToken(other, claims), NOW)), 'bad-signature', 'signed by another authority');
  const token = mintToken(authority, claims);
  const [prefix, , signature] = token.split('.');
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as TokenClaims;
  const promoted = Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url');
  t.equal(codeOf(() => verifyToken(authority.publicKey, `${prefix}.${promoted}.${signature}`, NOW)), 'bad-signature', 'role changed');
  const extended = Buffer.from(JSON.stringify({ ...payload, exp: payload.exp + 1e6 })).toString('base64url');
  t.equal(codeOf(() => verifyToken(authority.publicKey, `${prefix}.${extended}.${signature}`, NOW)), 'bad-signature', 'exp changed');

  // Any single-character change anywhere is refused (seeded sample of positions and replacements).
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
  for (let i = 0; i < 400; i++) {
    const at = randomInt(rand, 0, token.length - 1);
    const replacement = alphabet[randomInt(rand, 0, alphabet.length - 1)]!;
    if (replacement === token[at]) continue;
    const mutated = token.slice(0, at) + replacement + token.slice(at + 1);
    const code = codeOf(() => verifyToken(authority.publicKey, mutated, NOW));
    if (code !== 'malformed' && code !== 'bad-signature') t.fail(`mutation at ${at} to ${replacement} gave ${code}`);
  }
  t.pass('no single-character mutation verified');
});

t.test('malformed strings of many kinds', async (t) => {
  const good = mintToken(authority, claims);
  const [, payloadPart, sigPart] = good.split('.');
  const inputs: unknown[] = [
    undefined, null, 42, {}, [], '', ' ', 'opera1', 'opera1.', 'opera1..', 'opera1...', `opera1.${payloadPart}`,
    `opera1.${payloadPart}.`, `opera1..${sigPart}`, `opera2.${payloadPart}.${sigPart}`, `OPERA1.${payloadPart}.${sigPart}`,
    `Bearer ${good}`, ` ${good}`, `${good} `, `${good}\n`, `${good}.`, `${good}.extra`, `${good}==`,
    `opera1.${payloadPart}=.${sigPart}`, `opera1.${payloadPart}.${sigPart!.slice(0, 85)}`, `opera1.${payloadPart}.${sigPart}AA`,
    `opera1.${payloadPart!.replace(/[A-Za-z]/, '+')}.${sigPart}`, `opera1.${payloadPart}.${sigPart!.replace(/[A-Za-z]/, '/')}`,
    `opera1.ü${payloadPart}.${sigPart}`, 'x'.repeat(MAX_SIGNED_STRING_LENGTH + 1), `opera1.${'A'.repeat(5000)}.${sigPart}`,
    good.replace('opera1.', 'operacert1.'),
  ];
  for (const input of inputs) {
    const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 40)) : String(input);
    const code = codeOf(() => verifyToken(authority.publicKey, input, NOW));
    t.ok(code === 'malformed' || code === 'bad-signature', `${shown} refused (${code})`);
  }
  t.equal(codeOf(() => verifyToken(authority.publicKey, '', NOW)), 'malformed');
  t.equal(codeOf(() => verifyToken(authority.publicKey, null, NOW)), 'malformed');
});

t.test('correctly signed but invalid payloads are malformed', async (t) => {
  const signed = (payload: object): string => encodeSigned('opera1', payload, authority.secretKey);
  const base = { id: '0123456789abcdef0123456789abcdef', role: 'client', sub: 'alice', iat: NOW, exp: NOW + 60 };
  const payloads: object[] = [
    { ...base, role: 'root' }, { ...base, id: 'ABC' }, { ...base, sub: '' }, { ...base, sub: 'a\nb' },
    { ...base, sub: 'x'.repeat(257) }, { ...base, iat: 1.5 }, { ...base, exp: NOW }, { ...base, exp: '9999999999' },
    { ...base, extra: true }, { id: base.id, role: 'client', sub: 'alice', iat: NOW }, { ...base, iat: -1 },
  ];
  for (const payload of payloads) {
    t.equal(codeOf(() => verifyToken(authority.publicKey, signed(payload), NOW)), 'malformed', JSON.stringify(payload));
  }
  // Signed bytes that are not JSON at all.
  const body = `opera1.${Buffer.from('not json').toString('base64url')}`;
  const sig = signDetached(Buffer.from(body), authority.secretKey.expose()).toString('base64url');
  t.equal(codeOf(() => verifyToken(authority.publicKey, `${body}.${sig}`, NOW)), 'malformed', 'non-JSON payload');
  const arrayBody = `opera1.${Buffer.from('[1,2]').toString('base64url')}`;
  const arraySig = signDetached(Buffer.from(arrayBody), authority.secretKey.expose()).toString('base64url');
  t.equal(codeOf(() => verifyToken(authority.publicKey, `${arrayBody}.${arraySig}`, NOW)), 'malformed', 'array payload');
});

t.test('revocation hook and role checks', async (t) => {
  const token = mintToken(authority, claims);
  const { id } = verifyToken(authority.publicKey, token, NOW);
  const revoked = new Set([id]);
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW, { isRevoked: (x) => revoked.has(x) })), 'revoked');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW, { isRevoked: () => false })), 'ok');
  const verified = verifyToken(authority.publicKey, token, NOW);
  t.equal(codeOf(() => requireRole(verified, ['admin'])), 'wrong-role', 'a client token cannot act as admin');
  t.equal(codeOf(() => requireRole(verified, ['admin', 'client'])), 'ok');
  const join = verifyToken(authority.publicKey, mintToken(authority, { ...claims, role: 'join', sub: 'node-7' }), NOW);
  t.equal(codeOf(() => requireRole(join, ['node'])), 'wrong-role', 'a join token is not a node credential');
});

t.test('minting refuses bad claims', async (t) => {
  t.throws(() => mintToken(authority, { ...claims, exp: NOW }), /exp must be after iat/);
  t.throws(() => mintToken(authority, { ...claims, sub: '' }), /sub must be/);
  t.throws(() => mintToken(authority, { ...claims, role: 'root' as 'admin' }), /role must be/);
  t.throws(() => mintToken(authority, { ...claims, id: 'xyz' }), /id must be/);
  t.throws(() => mintToken(authority, { ...claims, iat: 0.5 }), /integer seconds/);
});

t.test('certificates bind a member key and are not tokens', async (t) => {
  const member = signKeyPair();
  const cert = issueCertificate(authority, { role: 'node', sub: 'node-3', publicKey: member.publicKey, iat: NOW, exp: NOW + 86400 });
  t.match(cert, /^operacert1\./);
  const verified = verifyCertificate(authority.publicKey, cert, NOW + 5);
  t.match(verified, { role: 'node', sub: 'node-3', iat: NOW, exp: NOW + 86400 });
  t.ok(verified.publicKey.equals(member.publicKey), 'certified public key');
  t.equal(codeOf(() => verifyToken(authority.publicKey, cert, NOW)), 'malformed', 'a certificate is not a bearer token');
  t.equal(codeOf(() => verifyCertificate(authority.publicKey, mintToken(authority, claims), NOW)), 'malformed', 'a token is not a certificate');
  t.equal(codeOf(() => verifyCertificate(other.publicKey, cert, NOW)), 'bad-signature');
  t.equal(codeOf(() => verifyCertificate(authority.publicKey, cert, NOW + 86400 + DEFAULT_LEEWAY_SECONDS)), 'expired');
  t.equal(codeOf(() => verifyCertificate(authority.publicKey, cert, NOW, { isRevoked: (id) => id === verified.id })), 'revoked');
  t.throws(() => issueCertificate(authority, { role: 'client' as 'node', sub: 'x', publicKey: member.publicKey, iat: NOW, exp: NOW + 1 }), /role must be/);
  t.throws(() => issueCertificate(authority, { role: 'node', sub: 'x', publicKey: Buffer.alloc(31), iat: NOW, exp: NOW + 1 }), /32 bytes/);
  const signedWithoutKey = encodeSigned('operacert1', { id: verified.id, role: 'node', sub: 'x', iat: NOW, exp: NOW + 1 }, authority.secretKey);
  t.equal(codeOf(() => verifyCertificate(authority.publicKey, signedWithoutKey, NOW)), 'malformed', 'certificate without pk');
});

t.test('errors do not echo the credential', async (t) => {
  const token = mintToken(authority, claims);
  for (const now of [NOW + 1e6, NOW - 1e6]) {
    try {
      verifyToken(authority.publicKey, token, now);
      t.fail('should throw');
    } catch (err) {
      t.notMatch((err as Error).message, token.split('.')[2]!, 'no signature in the message');
      t.notMatch((err as Error).message, token.split('.')[1]!.slice(0, 20), 'no payload in the message');
    }
  }
});

t.test('a session names its parent, and is refused wherever the parent is revoked', async (t) => {
  const parent = '0123456789abcdef0123456789abcdef';
  const session = mintToken(authority, { ...claims, exp: NOW + 900, parent });
  const verified = verifyToken(authority.publicKey, session, NOW);
  t.equal(verified.parent, parent, 'the parent id comes back');
  t.equal(verifyToken(authority.publicKey, mintToken(authority, claims), NOW).parent, undefined, 'a plain token has none');
  t.equal(codeOf(() => verifyToken(authority.publicKey, session, NOW, { isRevoked: (id) => id === parent })), 'revoked', 'parent revoked: refused');
  t.equal(codeOf(() => verifyToken(authority.publicKey, session, NOW, { isRevoked: (id) => id === verified.id })), 'revoked', 'session revoked: refused');
  t.equal(codeOf(() => verifyToken(authority.publicKey, session, NOW, { isRevoked: () => false })), 'ok');
  for (const [what, par] of [['not hex', 'x'.repeat(32)], ['too short', 'abc'], ['a number', 5]] as const) {
    const forged = encodeSigned('opera1', { id: parent.replace('0', '1'), role: 'client', sub: 'a', iat: NOW, exp: NOW + 60, par }, authority.secretKey);
    t.equal(codeOf(() => verifyToken(authority.publicKey, forged, NOW)), 'malformed', `par ${what}: malformed`);
  }
  const selfParent = encodeSigned('opera1', { id: parent, role: 'client', sub: 'a', iat: NOW, exp: NOW + 60, par: parent }, authority.secretKey);
  t.equal(codeOf(() => verifyToken(authority.publicKey, selfParent, NOW)), 'malformed', 'its own parent: malformed');
  const keys = signKeyPair();
  const cert = encodeSigned('operacert1', {
    id: parent, role: 'node', sub: 'n1', iat: NOW, exp: NOW + 60, pk: Buffer.from(keys.publicKey).toString('base64url'), par: parent.replace('0', '2'),
  }, authority.secretKey);
  t.equal(codeOf(() => verifyCertificate(authority.publicKey, cert, NOW)), 'malformed', 'a certificate never names a parent');
});

t.test('a remembered signature check never changes a verdict', async (t) => {
  const token = mintToken(authority, claims);
  const first = verifyToken(authority.publicKey, token, NOW);
  t.same(verifyToken(authority.publicKey, token, NOW), first, 'the second check (from the cache) gives the same claims');
  t.equal(codeOf(() => verifyToken(other.publicKey, token, NOW)), 'bad-signature', 'another authority still refuses it');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW + 7200)), 'expired', 'times are checked on every use');
  t.equal(codeOf(() => verifyToken(authority.publicKey, token, NOW, { isRevoked: (id) => id === first.id })), 'revoked', 'and revocation');
  t.equal(codeOf(() => verifyCertificate(authority.publicKey, token, NOW)), 'malformed', 'a remembered token does not pass as a certificate');
  const [head, payload, sig] = token.split('.');
  const flipped = `${head}.${payload}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'AB' : 'AA'}`;
  t.equal(codeOf(() => verifyToken(authority.publicKey, flipped, NOW)), 'bad-signature', 'a changed signature is checked afresh');
  const mutable = verifyToken(authority.publicKey, token, NOW) as { sub: string };
  mutable.sub = 'mallory';
  t.equal(verifyToken(authority.publicKey, token, NOW).sub, 'alice', 'a caller changing its claims does not change the next caller\'s');
});
