// The storage nemesis's damage on real bytes: segments built by the WAL's own encoder, so a
// torn tail is what recovery cuts and a flip in a sealed record is what it refuses.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { RaftStorage } from '../../src/raft/storage/index.js';
import { encodeOps } from '../../src/raft/storage/ops.js';
import { encodeRecord, encodeSegmentHeader, saltSeed } from '../../src/raft/storage/record.js';
import { prng } from '../helpers/prng.js';
import { findInlineValues, flipBit, flipSealedRecord, tearLast, tearTail, walRecords } from './nemesis/storage-damage.js';

const SEED = Number(process.env['STORAGE_DAMAGE_SEED'] ?? 4242);
t.comment(`seed ${SEED}`);

function segment(records: number): Buffer {
  const salt = 0x1234abcd;
  const parts = [encodeSegmentHeader(salt)];
  for (let i = 0; i < records; i++) parts.push(encodeRecord(saltSeed(salt), encodeOps([{ kind: 'hardState', hardState: { term: i + 1, vote: null, commit: 0 } }])));
  return Buffer.concat(parts);
}

t.test('records are found by their framing', async (t) => {
  const seg = segment(3);
  const rs = walRecords(seg);
  t.equal(rs.length, 3);
  t.equal(rs.at(-1)!.end, seg.length);
  t.equal(walRecords(seg.subarray(0, seg.length - 1)).length, 2, 'a record cut short is not a record');
});

t.test('a torn tail adds bytes after the last record; a cut inside the last keeps the others whole', async (t) => {
  const rand = prng(SEED);
  const seg = segment(3);
  const rs = walRecords(seg);
  for (let i = 0; i < 50; i++) {
    const torn = tearTail(seg, rand)!;
    t.same(torn.bytes.subarray(0, seg.length), seg);
    // What follows the last record: a strict prefix of a record like it, then only zeros.
    const last = rs.at(-1)!;
    const tail = torn.bytes.subarray(torn.validEnd);
    const prefixLen = tail.length - (tail.length - tail.findLastIndex((x) => x !== 0) - 1);
    if (!(torn.added > 0 && prefixLen < last.end - last.start && tail.subarray(0, prefixLen).equals(seg.subarray(last.start, last.start + prefixLen)))) {
      t.fail('a torn tail is a strict prefix of a record, then zeros');
    }
    const cut = tearLast(seg, rand)!;
    if (!(cut.cutAt > cut.recordStart && cut.cutAt < seg.length && walRecords(cut.bytes).length === 2)) t.fail(`cut at ${cut.cutAt}`);
  }
  t.equal(tearLast(segment(1), rand), null, 'the head record is never cut');
  t.equal(tearTail(segment(0), rand), null);
});

t.test('a flip changes one bit of a record that is not the last', async (t) => {
  const rand = prng(SEED + 1);
  const seg = segment(4);
  const rs = walRecords(seg);
  for (let i = 0; i < 50; i++) {
    const f = flipSealedRecord(seg, rand)!;
    let diff = 0;
    for (let j = 0; j < seg.length; j++) diff += popcount(seg[j]! ^ f.bytes[j]!);
    if (diff !== 1) t.fail(`${diff} bits changed`);
    if (!(f.offset >= rs[0]!.start + 9 && f.offset < rs.at(-1)!.start)) t.fail(`flip at ${f.offset} outside the sealed payloads`);
  }
  t.equal(flipSealedRecord(segment(1), rand), null);
  t.throws(() => flipBit(seg, seg.length, 0));
});

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v >>= 1) n += v & 1;
  return n;
}

t.test('recovery cuts a torn tail and refuses a flipped sealed record', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'opera-damage-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = await RaftStorage.open(dir, { sync: false });
  for (let i = 1; i <= 5; i++) await s.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: [{ index: i, term: 1, type: 'command', data: Buffer.from(`entry ${i}`) }], snapshot: null });
  await s.close();
  const file = join(dir, '0000000000000001.wal');
  const clean = await readFile(file);

  const warnings: string[] = [];
  await writeFile(file, tearTail(clean, prng(SEED))!.bytes);
  const reopened = await RaftStorage.open(dir, { sync: false, onWarn: (m) => warnings.push(m) });
  t.equal(reopened.load().entries.length, 5, 'every record before the tear is kept');
  await reopened.close();
  t.match(warnings.join('\n'), /torn tail/);

  await writeFile(file, flipSealedRecord(await readFile(file), prng(SEED))!.bytes);
  await t.rejects(RaftStorage.open(dir, { sync: false }), /corrupt/i, 'a flipped synced record is refused');
});

t.test('inline values of a content type are found in raw table bytes', async (t) => {
  const json = Buffer.from(JSON.stringify({ version: 3, size: 5, plainSize: null, contentType: 'x/y', digest: 'a'.repeat(64), createdAt: 1, deleted: false, generation: null, chunkSize: 0, chunks: 0 }));
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32BE(json.length, 1);
  const record = Buffer.concat([head, json, Buffer.from('hello')]);
  const raw = Buffer.concat([Buffer.from('junk\x00\x01'), record, Buffer.from('more junk')]);
  const found = findInlineValues(raw, 'x/y');
  t.equal(found.length, 1);
  t.equal(raw.toString('utf8', found[0]!.start, found[0]!.end), 'hello');
  t.same(findInlineValues(raw, 'other/type'), []);
});
