// The framed bodies between nodes: ops batches and partition copies round-trip in pieces
// of any size, and every malformed or cut-short body is refused with a WireError (for a
// copy, with nothing imported).
import t from 'tap';
import { WireError } from '../../src/node/wire/byte-reader.js';
import { encodeFrame } from '../../src/node/wire/frames.js';
import { encodeOps, OpsReader, type OutgoingOp, type OpsHeader } from '../../src/node/wire/ops-codec.js';
import { decodeExport, encodeExport } from '../../src/node/wire/export-codec.js';
import { applyBatch, buildBatch } from '../../src/node/replication/ops.js';
import { one, pieces, prng, randomInt, seedFor, seededBytes, sha256hex, tempStore, readAll } from './store/helpers.js';

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of src) parts.push(p);
  return Buffer.concat(parts);
}

function meta(value: Buffer): { contentType: string; plainSize: number | null; digest: string; size: number; createdAt: number } {
  return { contentType: 'application/octet-stream', plainSize: null, digest: sha256hex(value), size: value.length, createdAt: 1700000000000 };
}

async function readAllOps(body: AsyncIterable<Uint8Array>): Promise<{ header: OpsHeader; ops: { op: string; seq: number; key?: string; value?: Buffer }[] }> {
  const reader = new OpsReader(body);
  const header = await reader.header();
  const ops = [];
  for (let op = await reader.next(); op !== null; op = await reader.next()) {
    if (op.op === 'put') ops.push({ op: op.op, seq: op.seq, key: op.key, value: await collect(op.body) });
    else ops.push({ op: op.op, seq: op.seq, ...(op.op === 'delete' ? { key: op.key } : {}) });
  }
  return { header, ops };
}

t.test('an ops batch round-trips in pieces of any size', async (t) => {
  const seed = seedFor(t);
  const rand = prng(seed);
  const big = seededBytes(seed, 300_000);
  const small = Buffer.from('sol/earth');
  const ops: OutgoingOp[] = [
    { op: 'put', seq: 3, key: 'sol/earth', meta: meta(small), body: one(small) },
    { op: 'skip', seq: 4 },
    { op: 'delete', seq: 6, key: 'sol/mars', createdAt: 5 },
    { op: 'put', seq: 7, key: 'hip/71683', meta: meta(big), body: pieces(big, rand, 40_000) },
    { op: 'put', seq: 8, key: 'empty', meta: meta(Buffer.alloc(0)), body: one(Buffer.alloc(0)) },
  ];
  const header = { partition: 2, epoch: 9, fromSeq: 2, toSeq: 10, count: 5 };
  const wire = await collect(encodeOps(header, ops));
  for (let round = 0; round < 5; round++) {
    const got = await readAllOps(pieces(wire, rand, 1 + randomInt(rand, 0, 5000)));
    t.same(got.header, header);
    t.same(got.ops.map((o) => [o.op, o.seq, o.key]), [['put', 3, 'sol/earth'], ['skip', 4, undefined], ['delete', 6, 'sol/mars'], ['put', 7, 'hip/71683'], ['put', 8, 'empty']]);
    t.ok(got.ops[3]!.value!.equals(big), 'the large value is intact');
  }
  // A reader that skips a value still finds the next op.
  const reader = new OpsReader(one(wire));
  await reader.header();
  await reader.next();
  await reader.next();
  await reader.next();
  await reader.next(); // the big put, body not read
  t.match(await reader.next(), { op: 'put', seq: 8 });
  t.equal(await reader.next(), null);
});

t.test('the encoder refuses batches that break their header', async (t) => {
  const v = Buffer.from('x');
  const h = { partition: 0, epoch: 1, fromSeq: 0, toSeq: 5, count: 2 };
  await t.rejects(collect(encodeOps(h, [{ op: 'skip', seq: 2 }, { op: 'skip', seq: 2 }])), /out of order/);
  await t.rejects(collect(encodeOps(h, [{ op: 'skip', seq: 6 }])), /out of order/);
  await t.rejects(collect(encodeOps(h, [{ op: 'skip', seq: 1 }])), /announced 2/);
  await t.rejects(collect(encodeOps({ ...h, count: 1 }, [{ op: 'put', seq: 1, key: 'k', meta: { ...meta(v), size: 2 }, body: one(v) }])), /ended after 1 of 2/);
  await t.rejects(collect(encodeOps({ ...h, count: 1 }, [{ op: 'put', seq: 1, key: 'k', meta: meta(v), body: one(Buffer.from('xy')) }])), /longer/);
  await t.rejects(collect(encodeOps({ ...h, toSeq: -1 }, [])), WireError);
});

t.test('every truncation of an ops body is refused', async (t) => {
  const v = Buffer.from('hello world');
  const wire = await collect(encodeOps({ partition: 1, epoch: 2, fromSeq: 0, toSeq: 3, count: 2 }, [
    { op: 'put', seq: 1, key: 'a/b', meta: meta(v), body: one(v) },
    { op: 'delete', seq: 3, key: 'a/c', createdAt: 1 },
  ]));
  for (let cut = 0; cut < wire.length; cut++) {
    await t.rejects(readAllOps(one(wire.subarray(0, cut))), WireError, `cut at ${cut}`);
  }
  await t.rejects(readAllOps(one(Buffer.concat([wire, Buffer.from([0])]))), { code: 'malformed' }, 'trailing bytes');
});

t.test('malformed ops bodies are refused with the rule that broke', async (t) => {
  const frame = (json: Record<string, unknown>): Buffer => encodeFrame(json);
  const head = (over: Record<string, unknown> = {}): Buffer => frame({ type: 'ops', v: 1, partition: 0, epoch: 1, fromSeq: 0, toSeq: 5, count: 1, ...over });
  const end = frame({ type: 'end' });
  const digest = sha256hex(Buffer.alloc(0));
  const okPut = { op: 'put', seq: 1, key: 'k', meta: { contentType: 't', plainSize: null, digest, size: 0, createdAt: 1 }, bytes: 0 };
  const cases: [string, Buffer, RegExp][] = [
    ['not JSON', Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('{x')]), /not valid JSON/],
    ['an array', Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('[]')]), /not a JSON object/],
    ['a huge frame', Buffer.from([0x7f, 0, 0, 0]), /announces/],
    ['an empty frame', Buffer.from([0, 0, 0, 0]), /announces/],
    ['wrong version', Buffer.concat([head({ v: 2 }), end]), /"v"/],
    ['unknown header field', Buffer.concat([head({ extra: 1 }), end]), /"extra"/],
    ['toSeq before fromSeq', Buffer.concat([head({ fromSeq: 5, toSeq: 4 }), end]), /inconsistent/],
    ['more ops than sequences', Buffer.concat([head({ count: 9 }), end]), /inconsistent/],
    ['fewer ops than announced', Buffer.concat([head(), end]), /announced 1 ops, carried 0/],
    ['more ops than announced', Buffer.concat([head(), frame({ op: 'skip', seq: 1 }), frame({ op: 'skip', seq: 2 }), end]), /more than the 1/],
    ['sequence not after fromSeq', Buffer.concat([head({ fromSeq: 3 }), frame({ op: 'skip', seq: 3 }), end]), /out of order/],
    ['unknown op', Buffer.concat([head(), frame({ op: 'move', seq: 1 }), end]), /"op"/],
    ['bad key', Buffer.concat([head(), frame({ op: 'delete', seq: 1, key: 'a//b', createdAt: 1 }), end]), /not a valid key/],
    ['bad digest', Buffer.concat([head(), frame({ ...okPut, meta: { ...okPut.meta, digest: 'XYZ' } }), end]), /"digest"/],
    ['bytes ≠ size', Buffer.concat([head(), frame({ ...okPut, bytes: 3 }), end]), /"bytes"/],
    ['negative seq', Buffer.concat([head(), frame({ op: 'skip', seq: -1 }), end]), /"seq"/],
    ['end with fields', Buffer.concat([head({ count: 0 }), frame({ type: 'end', x: 1 })]), /"x"/],
  ];
  for (const [what, body, rule] of cases) await t.rejects(readAllOps(one(body)), { name: 'WireError', message: rule }, what);
});

t.test('batches built from one store apply to another, in order and fenced', async (t) => {
  const seed = seedFor(t);
  const { store: src } = await tempStore(t, { inlineLimit: 1024, chunkSize: 4096 });
  const { store: dst } = await tempStore(t, { inlineLimit: 1024, chunkSize: 4096 });
  await src.setPartitionState(5, { epoch: 3 });
  const values = new Map<string, Buffer>();
  for (let i = 0; i < 30; i++) {
    const key = `k/${i % 12}`;
    const value = seededBytes(seed + i, (i * 997) % 20_000);
    values.set(key, value);
    await src.putStream(5, key, { contentType: 'x' }, one(value), { epoch: 3 });
    if (i % 7 === 6) {
      await src.delete(5, `k/${i % 5}`, { epoch: 3 });
      values.delete(`k/${i % 5}`);
    }
  }
  let seq = 0;
  for (let round = 0; round < 50; round++) {
    const batch = await buildBatch(src, 5, 3, seq, { maxOps: 7, maxBytes: 30_000 });
    if (batch.kind !== 'batch') break;
    seq = await applyBatch(dst, 5, new OpsReader(encodeOps(batch.header, batch.ops)));
  }
  t.equal(seq, (await src.partitionState(5))!.lastSeq, 'caught up to the source');
  for (const [key, value] of values) t.ok((await readAll(await dst.getStream(5, key))).equals(value), `${key} copied`);
  t.same((await dst.list(5)).items.map((i) => i.key), (await src.list(5)).items.map((i) => i.key));
  // A batch that does not start where the receiver is, or of an older epoch, is refused.
  await src.putStream(5, 'late', { contentType: 'x' }, one(Buffer.from('1')), { epoch: 3 });
  const b = await buildBatch(src, 5, 3, seq - 1);
  if (b.kind !== 'batch') throw new Error('expected a batch');
  await t.rejects(applyBatch(dst, 5, new OpsReader(encodeOps(b.header, b.ops))), { name: 'SequenceGapError', lastSeq: seq });
  await b.release();
  await dst.setPartitionState(5, { epoch: 4 });
  const b2 = await buildBatch(src, 5, 3, seq);
  if (b2.kind !== 'batch') throw new Error('expected a batch');
  await t.rejects(applyBatch(dst, 5, new OpsReader(encodeOps(b2.header, b2.ops))), { name: 'StaleEpochError' });
  await b2.release();
  t.equal((await dst.head(5, 'late')), null, 'nothing of a refused batch is visible');
});

t.test('a partition copy round-trips; a cut-short copy imports nothing', async (t) => {
  const seed = seedFor(t);
  const rand = prng(seed);
  const { store: src } = await tempStore(t, { inlineLimit: 512, chunkSize: 2048 });
  for (let i = 0; i < 20; i++) await src.putStream(1, `obj/${i}`, { contentType: 'x' }, one(seededBytes(seed + i, i * 500)));
  await src.delete(1, 'obj/3');
  const wire = await collect(encodeExport(src.exportPartition(1)));
  const { store: dst } = await tempStore(t);
  const state = await dst.importRecords(1, decodeExport(pieces(wire, rand, 3000), 1));
  t.equal(state.objects, 19);
  t.equal(state.tombstones, 1);
  t.ok((await readAll(await dst.getStream(1, 'obj/19'))).equals(seededBytes(seed + 19, 19 * 500)));
  await t.rejects(collect((async function* () {
    for await (const r of decodeExport(one(wire), 2)) yield Buffer.from(r.kind);
  })()), /expected 2/, 'a copy of another partition');

  const cuts = [0, 3, 10, Math.floor(wire.length / 2), wire.length - 1];
  for (const cut of cuts) {
    const { store: fresh } = await tempStore(t);
    await t.rejects(fresh.importRecords(1, decodeExport(one(wire.subarray(0, cut)), 1)), `cut at ${cut}`);
    t.same(await fresh.stats(), [], `nothing imported from a copy cut at ${cut}`);
  }
  // A flipped byte in a value: the digest check refuses the copy.
  const flipped = Buffer.from(wire);
  flipped[wire.length - 40] ^= 0xff;
  const { store: fresh } = await tempStore(t);
  await t.rejects(fresh.importRecords(1, decodeExport(one(flipped), 1)));
  t.same(await fresh.stats(), []);
});
