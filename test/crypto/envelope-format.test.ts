import t from 'tap';
import {
  ciphertextLength, decodeHeader, encodeHeader, frameCount, plaintextLength, FRAME_PLAINTEXT_BYTES, HEADER_LENGTH,
  type EncryptionHeader,
} from '../../src/crypto/envelope-format.js';
import { EnvelopeError } from '../../src/crypto/errors.js';

const F = FRAME_PLAINTEXT_BYTES;
const sample: EncryptionHeader = {
  kekName: 'kek',
  kekVersion: 0x01020304,
  nonce: Buffer.alloc(24, 0xaa),
  wrappedKey: Buffer.alloc(48, 0xbb),
  streamHeader: Buffer.alloc(24, 0xcc),
};

t.test('header layout is byte-exact', async (t) => {
  const bytes = encodeHeader(sample);
  t.equal(HEADER_LENGTH, 138);
  t.equal(bytes.length, 138);
  const expected = Buffer.concat([
    Buffer.from('SOPE', 'ascii'), // 0..4 magic
    Buffer.from([1]), // 4 format version
    Buffer.from([3]), // 5 KEK name length
    Buffer.from('kek', 'ascii'), Buffer.alloc(29), // 6..38 KEK name, zero padded
    Buffer.from([1, 2, 3, 4]), // 38..42 KEK version, u32 big-endian
    Buffer.alloc(24, 0xaa), // 42..66 wrap nonce
    Buffer.alloc(48, 0xbb), // 66..114 wrapped data key
    Buffer.alloc(24, 0xcc), // 114..138 secretstream header
  ]);
  t.equal(bytes.toString('hex'), expected.toString('hex'));
  t.same(decodeHeader(bytes), sample, 'decodes back to the same fields');
});

t.test('longest KEK name fills the field exactly', async (t) => {
  const kekName = 'a'.repeat(32);
  t.same(decodeHeader(encodeHeader({ ...sample, kekName })).kekName, kekName);
  t.throws(() => encodeHeader({ ...sample, kekName: 'a'.repeat(33) }), /KEK name/);
  t.throws(() => encodeHeader({ ...sample, kekName: 'KEK' }), /KEK name/);
  t.throws(() => encodeHeader({ ...sample, kekVersion: 0 }), /KEK version/);
  t.throws(() => encodeHeader({ ...sample, nonce: Buffer.alloc(23) }), /nonce/);
});

t.test('decodeHeader refuses everything encodeHeader cannot produce', async (t) => {
  const good = encodeHeader(sample);
  const edit = (offset: number, value: number): Buffer => {
    const copy = Buffer.from(good);
    copy[offset] = value;
    return copy;
  };
  const cases: Array<[string, Buffer, string]> = [
    ['bad magic', edit(0, 0x58), 'malformed-header'],
    ['format version 2', edit(4, 2), 'unsupported-version'],
    ['format version 0', edit(4, 0), 'unsupported-version'],
    ['name length 0', edit(5, 0), 'malformed-header'],
    ['name length 33', edit(5, 33), 'malformed-header'],
    ['name length longer than the name', edit(5, 4), 'malformed-header'],
    ['upper-case name', edit(6, 0x4b), 'malformed-header'],
    ['non-zero padding', edit(37, 1), 'malformed-header'],
    ['KEK version 0', Buffer.concat([good.subarray(0, 38), Buffer.alloc(4), good.subarray(42)]), 'malformed-header'],
    ['one byte short', good.subarray(0, 137), 'truncated'],
    ['one byte long', Buffer.concat([good, Buffer.alloc(1)]), 'malformed-header'],
    ['empty', Buffer.alloc(0), 'malformed-header'],
  ];
  for (const [name, bytes, code] of cases) {
    t.throws(() => decodeHeader(bytes), { name: 'EnvelopeError', code }, name);
  }
});

t.test('ciphertextLength and plaintextLength', async (t) => {
  const table: Array<[number, number]> = [
    [0, 138 + 17], [1, 138 + 1 + 17], [F - 1, 138 + F - 1 + 17], [F, 138 + F + 17], [F + 1, 138 + F + 1 + 34],
    [2 * F, 138 + 2 * F + 34], [5 * 1024 ** 3, 138 + 5 * 1024 ** 3 + 17 * 81920],
  ];
  for (const [plain, stored] of table) {
    t.equal(ciphertextLength(plain), stored, `ciphertextLength(${plain})`);
    t.equal(plaintextLength(stored), plain, `plaintextLength(${stored})`);
  }
  t.equal(frameCount(0), 1);
  t.equal(frameCount(F), 1);
  t.equal(frameCount(F + 1), 2);
  // Every stored length either maps back exactly or is refused.
  for (let stored = 0; stored < 138 + 3 * (F + 17) + 40; stored += stored < 400 ? 1 : 997) {
    let plain: number | null = null;
    try {
      plain = plaintextLength(stored);
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
    }
    if (plain !== null && ciphertextLength(plain) !== stored) t.fail(`plaintextLength(${stored}) is wrong`);
  }
  t.throws(() => plaintextLength(138 + 16), { code: 'truncated' });
  t.throws(() => plaintextLength(138 + F + 17 + 1), { code: 'truncated' }, 'a second frame needs 17 bytes of overhead');
  t.throws(() => ciphertextLength(-1), /non-negative/);
  t.throws(() => ciphertextLength(1.5), /non-negative/);
});
