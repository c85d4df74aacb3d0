import t from 'tap';
import { Readable } from 'node:stream';
import { digestOf, digestsEqual, DigestStream, sha256 } from '../../src/crypto/digest.js';
import { decodeBase64url, encodeBase64url } from '../../src/crypto/base64url.js';
import { prng, randomChunks, runThrough, seededBytes, testSeed } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set CRYPTO_TEST_SEED to replay)`);
const rand = prng(seed);

t.test('SHA-256 known answers', async (t) => {
  t.equal(sha256('').toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(sha256('abc').toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

t.test('DigestStream passes bytes through and digests them, whatever the chunking', async (t) => {
  const data = seededBytes(rand, 1024 * 1024 + 17);
  const expected = sha256(data);
  for (let round = 0; round < 3; round++) {
    const stream = new DigestStream();
    t.throws(() => stream.digest(), /before the stream finished/);
    const out = await runThrough(stream, randomChunks(rand, data, 100_000));
    t.ok(out.equals(data), 'bytes unchanged');
    t.ok(digestsEqual(stream.digest(), expected), 'digest of everything');
    t.equal(stream.length, data.length);
  }
  const empty = new DigestStream();
  await runThrough(empty, []);
  t.ok(empty.digest().equals(sha256('')));
});

t.test('digestOf and digestsEqual', async (t) => {
  const data = seededBytes(rand, 300_000);
  const { digest, length } = await digestOf(Readable.from(randomChunks(rand, data, 7000)));
  t.ok(digest.equals(sha256(data)));
  t.equal(length, data.length);
  t.equal((await digestOf(Readable.from(['ab', 'c']))).digest.toString('hex'), sha256('abc').toString('hex'));
  t.notOk(digestsEqual(sha256('a'), sha256('b')));
  t.notOk(digestsEqual(sha256('a'), sha256('a').subarray(0, 31)), 'different lengths are unequal, not an exception');
});

t.test('strict base64url', async (t) => {
  for (const size of [0, 1, 2, 3, 4, 31, 32, 64]) {
    const bytes = seededBytes(rand, size);
    t.ok(decodeBase64url(encodeBase64url(bytes))?.equals(bytes), `round trip of ${size} bytes`);
  }
  for (const bad of ['A', 'AB=', 'A+B/', 'AB C', 'AB\n', 'AC', 'AAB']) {
    t.equal(decodeBase64url(bad), null, `refuses ${JSON.stringify(bad)}`);
  }
  t.same(decodeBase64url('AA'), Buffer.from([0]));
});
