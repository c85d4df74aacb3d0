import t from 'tap';
import {
  chunkKey,
  keyOfObjectKey,
  logKey,
  objectKey,
  parseChunkKey,
  prefixEnd,
  readUint64,
  seqOfLogKey,
  stateKey,
  writeUint64,
} from '../../../src/node/store/layout.js';
import { decodeObject, encodeObject } from '../../../src/node/store/records.js';
import { CorruptObjectError } from '../../../src/node/store/index.js';

t.test('record keys, byte by byte (docs/node-storage.md)', async (t) => {
  t.equal(objectKey(0x01020304, 'sol/é').toString('hex'), '6f2f010203042f' + Buffer.from('sol/é').toString('hex'));
  t.equal(
    chunkKey(1, 'ab', 0x1_0000_0002, 7).toString('hex'),
    '632f000000012f' + '6162' + '00' + '0000000100000002' + '2f' + '00000007',
  );
  t.equal(stateKey(256).toString('hex'), '702f00000100');
  t.equal(logKey(2, 300).toString('hex'), '6c2f000000022f000000000000012c');
  t.equal(seqOfLogKey(logKey(9, 2 ** 53 - 1)), 2 ** 53 - 1);
  t.equal(keyOfObjectKey(objectKey(7, 'PsA/α PsA')), 'PsA/α PsA');
  const parsed = parseChunkKey(chunkKey(0x2f2f2f2f, 'a/b', 12, 3));
  t.same({ ...parsed, keyBytes: parsed.keyBytes.toString() }, { partition: 0x2f2f2f2f, keyBytes: 'a/b', generation: 12, index: 3 });
  t.throws(() => parseChunkKey(objectKey(1, 'abcdefghijklmnopq')));
});

t.test('byte order is the order the store needs', async (t) => {
  const order = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);
  t.ok(order(objectKey(1, 'zzz'), objectKey(2, 'a')) < 0, 'partition first');
  t.ok(order(objectKey(255, 'z'), objectKey(256, 'a')) < 0, 'partitions in numeric order');
  t.ok(order(chunkKey(1, 'a', 5, 0xffff), chunkKey(1, 'a/b', 1, 0)) < 0, "all chunks of 'a' before those of 'a/b'");
  t.ok(order(chunkKey(1, 'a', 5, 0xffff), chunkKey(1, 'a ', 1, 0)) < 0, "all chunks of 'a' before those of 'a '");
  t.ok(order(chunkKey(1, 'a', 1, 2), chunkKey(1, 'a', 1, 10)) < 0, 'chunk indexes in numeric order');
  t.ok(order(logKey(1, 255), logKey(1, 256)) < 0, 'sequences in numeric order');
  t.same(prefixEnd(Buffer.from([1, 2, 0xff])), Buffer.from([1, 3]));
  t.equal(prefixEnd(Buffer.from([0xff, 0xff])), null);
  const buf = Buffer.alloc(8);
  for (const n of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
    writeUint64(buf, n, 0);
    t.equal(readUint64(buf, 0), n);
  }
  t.throws(() => writeUint64(buf, -1, 0));
  t.throws(() => writeUint64(buf, 2 ** 53, 0));
});

t.test('object records round trip and refuse inconsistent layouts', async (t) => {
  const meta = { key: 'k', version: 3, size: 4, plainSize: null, contentType: 'x', digest: 'a'.repeat(64), createdAt: 5, deleted: false };
  const inline = { meta, generation: null, chunkSize: 0, chunks: 0, inline: Buffer.from('abcd') };
  t.same(decodeObject('k', encodeObject(inline)), inline);
  const chunked = { meta: { ...meta, size: 2500 }, generation: 9, chunkSize: 1000, chunks: 3, inline: null };
  t.same(decodeObject('k', encodeObject(chunked)), chunked);
  t.throws(() => encodeObject({ ...chunked, chunks: 2 }), CorruptObjectError);
  t.throws(() => encodeObject({ ...inline, inline: Buffer.from('abc') }), CorruptObjectError);
  const raw = encodeObject(inline);
  t.throws(() => decodeObject('k', raw.subarray(0, raw.length - 1)), CorruptObjectError, 'a short inline value');
  t.throws(() => decodeObject('k', Buffer.from([2, 0, 0, 0, 0])), CorruptObjectError, 'unknown format');
});
