import t from 'tap';
import { createDecryptStream, openValue, sealValue, encryptBuffer, newSealingKey, decryptBuffer } from '../../src/crypto/envelope.js';
import {
  FRAME_CIPHERTEXT_BYTES, FRAME_PLAINTEXT_BYTES, HEADER_LENGTH, decodeHeader, encodeHeader,
} from '../../src/crypto/envelope-format.js';
import { EnvelopeError, type EnvelopeErrorCode } from '../../src/crypto/errors.js';
import { LocalKeyService } from '../../src/crypto/key-service.js';
import { generateKek } from '../../src/crypto/secrets.js';
import { prng, randomChunks, runThrough, seededBytes, testSeed } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set CRYPTO_TEST_SEED to replay)`);
const rand = prng(seed);
const kek1 = generateKek('kek', 1);
const kek2 = generateKek('kek', 2);
const keys = new LocalKeyService([kek1]);
const F = FRAME_PLAINTEXT_BYTES;
const C = FRAME_CIPHERTEXT_BYTES;

/** Decrypts through both the buffer and the stream path; returns the error codes, or null for success. */
async function tryOpen(service: LocalKeyService, objectKey: string, stored: Buffer): Promise<{ buffer: string; stream: string }> {
  const code = (err: unknown): string => (err instanceof EnvelopeError ? err.code : `not an EnvelopeError: ${String(err)}`);
  const buffer = await openValue(service, objectKey, stored).then(() => 'ok', code);
  const stream = await runThrough(createDecryptStream({ keys: service, objectKey }), randomChunks(rand, stored, 30_000))
    .then(() => 'ok', code);
  return { buffer, stream };
}

function flipped(stored: Buffer, offset: number, bit = 0): Buffer {
  const copy = Buffer.from(stored);
  copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
  return copy;
}

t.test('every single-bit flip of a small object is detected (exhaustive over all bytes)', async (t) => {
  const stored = await sealValue(keys, 'sol/earth', Buffer.from('Earth: third planet, one moon'));
  let detected = 0;
  for (let offset = 0; offset < stored.length; offset++) {
    const { buffer, stream } = await tryOpen(keys, 'sol/earth', flipped(stored, offset, offset % 8));
    if (buffer === 'ok' || stream === 'ok' || buffer.startsWith('not') || stream.startsWith('not')) {
      t.fail(`flip at byte ${offset} not detected as an EnvelopeError (buffer: ${buffer}, stream: ${stream})`);
    } else {
      detected++;
    }
  }
  t.equal(detected, stored.length, `all ${stored.length} flipped positions refused`);
});

t.test('tampering in each region gives the expected error', async (t) => {
  const plaintext = seededBytes(rand, 2 * F + 1000); // three frames: full, full, short final
  const stored = await sealValue(keys, 'hip/71683', plaintext);
  const frameStart = (i: number): number => HEADER_LENGTH + i * C;
  const regions: Array<[string, number, EnvelopeErrorCode]> = [
    ['magic', 0, 'malformed-header'],
    ['format version', 4, 'unsupported-version'],
    ['KEK name length', 5, 'malformed-header'],
    ['KEK name', 6, 'unknown-kek'],
    ['KEK name padding', 20, 'malformed-header'],
    ['KEK version', 41, 'unknown-kek'],
    ['wrap nonce', 50, 'unwrap-failed'],
    ['wrapped key', 80, 'unwrap-failed'],
    ['wrapped key tag', 113, 'unwrap-failed'],
    ['secretstream header', 120, 'tampered'],
  ];
  for (let i = 0; i < 3; i++) {
    const end = i < 2 ? frameStart(i + 1) : stored.length;
    regions.push([`frame ${i} encrypted tag byte`, frameStart(i), 'tampered']);
    regions.push([`frame ${i} body`, frameStart(i) + 1 + Math.floor(rand() * (end - frameStart(i) - 17)), 'tampered']);
    regions.push([`frame ${i} MAC`, end - 1 - Math.floor(rand() * 16), 'tampered']);
  }
  for (const [name, offset, expected] of regions) {
    const result = await tryOpen(keys, 'hip/71683', flipped(stored, offset, 1));
    t.same(result, { buffer: expected, stream: expected }, `${name} (byte ${offset})`);
  }
});

t.test('truncation is detected, at frame boundaries and mid-frame', async (t) => {
  const stored = await sealValue(keys, 'hip/71683', seededBytes(rand, 2 * F + 1000));
  const cuts: Array<[string, number, readonly string[]]> = [
    ['empty', 0, ['truncated', 'malformed-header']],
    ['inside the magic', 2, ['truncated', 'malformed-header']],
    ['inside the header', 100, ['truncated']],
    ['header only', HEADER_LENGTH, ['truncated']],
    ['after frame 0', HEADER_LENGTH + C, ['truncated']],
    ['after frame 1', HEADER_LENGTH + 2 * C, ['truncated']],
    ['inside frame 0', HEADER_LENGTH + 5000, ['tampered', 'truncated']],
    ['inside frame 1 tag area', HEADER_LENGTH + C + 10, ['truncated']],
    ['inside frame 2', stored.length - 300, ['tampered', 'truncated']],
    ['last byte missing', stored.length - 1, ['tampered', 'truncated']],
  ];
  for (const [name, length, expected] of cuts) {
    const { buffer, stream } = await tryOpen(keys, 'hip/71683', stored.subarray(0, length));
    t.ok(expected.includes(buffer) && expected.includes(stream), `${name}: ${buffer} / ${stream}`);
  }
});

t.test('a cut at a frame boundary errors the stream even though every frame read was authentic', async (t) => {
  const plaintext = seededBytes(rand, 2 * F);
  const sealing = await newSealingKey(keys, 'sol/venus');
  const stored = encryptBuffer(plaintext, sealing);
  const out: Buffer[] = [];
  const err = await runThrough(createDecryptStream({ dataKey: sealing.dataKey }), [stored.subarray(0, HEADER_LENGTH + C)], out)
    .then(() => null, (e: unknown) => e);
  t.type(err, EnvelopeError);
  t.equal((err as EnvelopeError).code, 'truncated');
  t.throws(() => decryptBuffer(stored.subarray(0, HEADER_LENGTH + C), sealing.dataKey), { code: 'truncated' });
});

t.test('reordered, dropped, duplicated and appended frames are refused', async (t) => {
  const stored = await sealValue(keys, 'sol/jupiter', seededBytes(rand, 3 * F + 10));
  const header = stored.subarray(0, HEADER_LENGTH);
  const frames = [0, 1, 2, 3].map((i) => stored.subarray(HEADER_LENGTH + i * C, Math.min(stored.length, HEADER_LENGTH + (i + 1) * C)));
  const [f0, f1, f2, f3] = frames as [Buffer, Buffer, Buffer, Buffer];
  const cases: Array<[string, Buffer, string]> = [
    ['swap frames 0 and 1', Buffer.concat([header, f1, f0, f2, f3]), 'tampered'],
    ['drop frame 1', Buffer.concat([header, f0, f2, f3]), 'tampered'],
    ['duplicate frame 0', Buffer.concat([header, f0, f0, f1, f2, f3]), 'tampered'],
    // The short final frame absorbs appended bytes, so it no longer authenticates.
    ['bytes after a short final frame', Buffer.concat([stored, Buffer.from([0])]), 'tampered'],
    ['a whole frame after a short final frame', Buffer.concat([stored, f0]), 'tampered'],
  ];
  for (const [name, data, expected] of cases) {
    t.same(await tryOpen(keys, 'sol/jupiter', data), { buffer: expected, stream: expected }, name);
  }
  const full = await sealValue(keys, 'sol/jupiter', seededBytes(rand, 2 * F)); // final frame is full-size
  for (const [name, extra] of [['one byte', Buffer.from([0])], ['a frame', f0]] as const) {
    t.same(await tryOpen(keys, 'sol/jupiter', Buffer.concat([full, extra])),
      { buffer: 'trailing-data', stream: 'trailing-data' }, `${name} after a full-size final frame`);
  }
});

t.test('frames spliced under another header of the same object are refused', async (t) => {
  const a = await sealValue(keys, 'sol/saturn', seededBytes(rand, 100));
  const b = await sealValue(keys, 'sol/saturn', seededBytes(rand, 100));
  const spliced = Buffer.concat([a.subarray(0, HEADER_LENGTH), b.subarray(HEADER_LENGTH)]);
  t.same(await tryOpen(keys, 'sol/saturn', spliced), { buffer: 'tampered', stream: 'tampered' });
});

t.test('a wrapped key moved to another object does not unwrap', async (t) => {
  const stored = await sealValue(keys, 'sol/earth/moon', Buffer.from('Luna'));
  t.same(await tryOpen(keys, 'sol/earth/luna', stored), { buffer: 'unwrap-failed', stream: 'unwrap-failed' });
  t.same(await tryOpen(keys, 'sol/earth/moon', stored), { buffer: 'ok', stream: 'ok' }, 'still opens under its own key');
});

t.test('wrong KEK version is refused', async (t) => {
  const stored = await sealValue(keys, 'hip/87937', Buffer.from("Barnard's Star"));
  t.same(await tryOpen(new LocalKeyService([kek2]), 'hip/87937', stored),
    { buffer: 'unknown-kek', stream: 'unknown-kek' }, 'KEK version 1 not loaded');
  const relabelled = Buffer.concat([
    encodeHeader({ ...decodeHeader(stored.subarray(0, HEADER_LENGTH)), kekVersion: 2 }), stored.subarray(HEADER_LENGTH),
  ]);
  t.same(await tryOpen(new LocalKeyService([kek1, kek2]), 'hip/87937', relabelled),
    { buffer: 'unwrap-failed', stream: 'unwrap-failed' }, 'header relabelled to another loaded version');
  const otherKek = generateKek('kek', 1); // same name and version, different key material
  t.same(await tryOpen(new LocalKeyService([otherKek]), 'hip/87937', stored),
    { buffer: 'unwrap-failed', stream: 'unwrap-failed' }, 'another cluster\'s kek-1');
});

t.test('error messages carry no key material or plaintext', async (t) => {
  const plaintext = Buffer.from('SECRET-PLAINTEXT-MARKER');
  const sealing = await newSealingKey(keys, 'sol/pluto');
  const stored = encryptBuffer(plaintext, sealing);
  const err = await tryOpenError(flipped(stored, stored.length - 3));
  const text = `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)}`;
  for (const secret of [sealing.dataKey.expose(), kek1.key.expose()]) {
    for (const encoding of ['hex', 'base64', 'base64url'] as const) t.notMatch(text, secret.toString(encoding));
  }
  t.notMatch(text, 'SECRET-PLAINTEXT-MARKER');
});

async function tryOpenError(stored: Buffer): Promise<EnvelopeError> {
  return openValue(keys, 'sol/pluto', stored).then(() => { throw new Error('expected a failure'); }, (e: EnvelopeError) => e);
}
