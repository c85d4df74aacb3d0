import t from 'tap';
import { crc32c } from '../../../src/raft/storage/crc32c.js';
import { rng } from './helpers.js';

// Bit-at-a-time reference, to check the sliced tables against.
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

t.test('known vectors (RFC 3720 B.4 and the usual check value)', async (t) => {
  t.equal(crc32c(new Uint8Array(0)), 0);
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  t.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  t.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  t.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  t.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

t.test('matches the bitwise reference at every length and chains', async (t) => {
  const seed = 20240601;
  t.comment(`seed ${seed}`);
  const next = rng(seed);
  const data = Uint8Array.from({ length: 300 }, () => Math.floor(next() * 256));
  for (let n = 0; n <= data.length; n++) {
    const part = data.subarray(0, n);
    const want = reference(part);
    if (crc32c(part) !== want) t.fail(`length ${n}`);
    const cut = Math.floor(n / 3);
    if (crc32c(part.subarray(cut), crc32c(part.subarray(0, cut))) !== want) t.fail(`chained at ${cut} of ${n}`);
  }
  t.pass('all lengths 0..300 agree');
});
