import t from 'tap';
import { once } from 'node:events';
import {
  createDecryptStream, createEncryptStream, decryptBuffer, encryptBuffer, newSealingKey, openValue, sealValue,
  readEncryptionHeader,
} from '../../src/crypto/envelope.js';
import { ciphertextLength, FRAME_PLAINTEXT_BYTES, HEADER_LENGTH, plaintextLength } from '../../src/crypto/envelope-format.js';
import { LocalKeyService, unwrapOne } from '../../src/crypto/key-service.js';
import { generateKek } from '../../src/crypto/secrets.js';
import { prng, randomChunks, runThrough, seededBytes, testSeed } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set CRYPTO_TEST_SEED to replay)`);
const rand = prng(seed);
const keys = new LocalKeyService([generateKek('kek', 1)]);
const F = FRAME_PLAINTEXT_BYTES;

const sizes: Array<[string, number]> = [
  ['0 bytes', 0], ['1 byte', 1], ['one frame minus 1', F - 1], ['exactly one frame', F],
  ['one frame plus 1', F + 1], ['exactly two frames', 2 * F], ['several MB', 3 * 1024 * 1024 + 12345],
];

for (const [name, size] of sizes) {
  t.test(`stream round trip: ${name}`, async (t) => {
    const objectKey = `sol/earth/${size}`;
    const plaintext = seededBytes(rand, size);
    const sealing = await newSealingKey(keys, objectKey);
    const stored = await runThrough(createEncryptStream(sealing), randomChunks(rand, plaintext, 200_000));
    t.equal(stored.length, ciphertextLength(size), 'stored size is ciphertextLength(plaintext size)');
    t.equal(plaintextLength(stored.length), size, 'plaintextLength inverts it');

    const viaService = await runThrough(createDecryptStream({ keys, objectKey }), randomChunks(rand, stored, 100_000));
    t.ok(viaService.equals(plaintext), 'decrypt stream with the key service gives the plaintext back');
    const dataKey = await unwrapOne(keys, objectKey, readEncryptionHeader(stored));
    const viaKey = await runThrough(createDecryptStream({ dataKey }), randomChunks(rand, stored, 70_000));
    t.ok(viaKey.equals(plaintext), 'decrypt stream with an unwrapped data key gives the plaintext back');
    t.ok(decryptBuffer(stored, dataKey).equals(plaintext), 'buffer decryption reads what the stream wrote');
  });
}

t.test('buffer and stream formats are the same', async (t) => {
  for (const size of [0, 1, 1000, F, F + 1, 3 * F + 5]) {
    const plaintext = seededBytes(rand, size);
    const sealing = await newSealingKey(keys, 'hip/71683');
    const stored = encryptBuffer(plaintext, sealing);
    t.equal(stored.length, ciphertextLength(size), `buffer output size for ${size}`);
    const back = await runThrough(createDecryptStream({ dataKey: sealing.dataKey }), randomChunks(rand, stored, 9000));
    t.ok(back.equals(plaintext), `stream decrypts buffer output of ${size} bytes`);
  }
});

t.test('sealValue / openValue for small values', async (t) => {
  const plaintext = Buffer.from('{"name":"Proxima Centauri","distance_ly":4.2465}');
  const stored = await sealValue(keys, 'hip/70890', plaintext);
  t.equal(stored.length, ciphertextLength(plaintext.length));
  t.same(await openValue(keys, 'hip/70890', stored), plaintext);
  t.same(await openValue(keys, 'hip/70890', await sealValue(keys, 'hip/70890', Buffer.alloc(0))), Buffer.alloc(0));
});

t.test('ciphertext never contains a known plaintext marker', async (t) => {
  const marker = Buffer.from('STAR-MARKER-7f3a9c');
  const plaintext = Buffer.concat(Array.from({ length: 20_000 }, () => marker)); // several frames of it
  const sealing = await newSealingKey(keys, 'gaia-dr3/4472832130942575872');
  const streamed = await runThrough(createEncryptStream(sealing), randomChunks(rand, plaintext, 50_000));
  const buffered = await sealValue(keys, 'gaia-dr3/4472832130942575872', plaintext);
  for (const stored of [streamed, buffered]) {
    t.equal(stored.indexOf(marker), -1, 'marker absent from ciphertext');
    t.equal(stored.indexOf(marker.subarray(0, 8)), -1, 'no 8-byte piece of it either');
  }
  t.equal(streamed.subarray(HEADER_LENGTH).indexOf(Buffer.from('gaia-dr3')), -1, 'the object key is not in the ciphertext');
});

t.test('two encryptions of one value differ (fresh data key and nonces)', async (t) => {
  const plaintext = Buffer.from('same value');
  const a = await sealValue(keys, 'sol/mars', plaintext);
  const b = await sealValue(keys, 'sol/mars', plaintext);
  t.notOk(a.equals(b));
  t.notOk(a.subarray(HEADER_LENGTH).equals(b.subarray(HEADER_LENGTH)));
});

t.test('the encrypt stream emits a header, then one frame at a time', async (t) => {
  // A 16 MiB value written in 1 MiB chunks: every piece pushed out is the header or one frame,
  // so the stream never builds more than a frame of output per step.
  const sealing = await newSealingKey(keys, 'big/value');
  const chunk = seededBytes(rand, 1024 * 1024);
  const encrypt = createEncryptStream(sealing);
  const pieces: number[] = [];
  encrypt.on('data', (piece: Buffer) => pieces.push(piece.length));
  const ended = once(encrypt, 'end');
  for (let i = 0; i < 16; i++) encrypt.write(chunk);
  encrypt.end();
  await ended;
  t.equal(pieces[0], HEADER_LENGTH, 'header first');
  t.same(new Set(pieces.slice(1)), new Set([F + 17]), 'then only whole frames');
  t.equal(pieces.length, 1 + 256, 'one piece per frame');
});
