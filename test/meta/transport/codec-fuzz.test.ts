// Malformed input against decodeFrame: whatever the bytes, the only possible outcomes
// are a valid batch or a TransportDecodeError, and both come quickly.
import t from 'tap';
import { decodeFrame, encodeFrame, FRAME_VERSION } from '../../../src/meta/transport/codec.js';
import { TransportDecodeError } from '../../../src/meta/transport/errors.js';
import { FrameReader } from '../../../src/meta/transport/frame-reader.js';
import { messageToWire } from '../../../src/meta/transport/wire-schema.js';
import type { Message } from '../../../src/raft/types.js';
import { everyMessageType, prng, randomBytes, randomInt, testSeed } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set TRANSPORT_TEST_SEED to replay)`);
const rand = prng(seed);

type Outcome = 'ok' | 'rejected';

/** Decodes; any exception other than TransportDecodeError is rethrown to fail the test. */
function attempt(bytes: Uint8Array, max?: number): Outcome {
  try {
    decodeFrame(bytes, max);
    return 'ok';
  } catch (err) {
    if (err instanceof TransportDecodeError) return 'rejected';
    throw new Error(`decodeFrame threw a ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
}

/** A frame built by hand, so header and blob table can be anything. */
function rawFrame(header: unknown, blobs: readonly Uint8Array[], opts: { version?: number; blobLengths?: number[] } = {}): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const lengths = opts.blobLengths ?? blobs.map((b) => b.byteLength);
  const parts = [
    Buffer.of(opts.version ?? FRAME_VERSION),
    u32(json.byteLength), json, u32(lengths.length), ...lengths.map(u32), ...blobs.map((b) => Buffer.from(b)),
  ];
  const payload = Buffer.concat(parts);
  return Buffer.concat([u32(payload.byteLength), payload]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function wireBatch(messages: readonly Message[]): { header: unknown[]; blobs: Uint8Array[] } {
  const blobs: Uint8Array[] = [];
  return { header: messages.map((m) => messageToWire(m, blobs)), blobs };
}

/** Every path to a value inside a JSON value, as key lists. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  }
  return out;
}

function mutate(root: unknown, path: (string | number)[], change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(root));
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  change(node, path[path.length - 1]!);
  return copy;
}

const valid = encodeFrame(everyMessageType(rand, 'n1', 'n2'));

t.test('sanity: the valid frame decodes', async (t) => {
  t.equal(attempt(valid), 'ok');
});

t.test('truncation at every offset is rejected, with and without a matching length prefix', async (t) => {
  let rejected = 0;
  for (let k = 0; k < valid.length; k++) {
    const cut = Buffer.from(valid.subarray(0, k));
    if (attempt(cut) === 'rejected') rejected++;
    if (k >= 4) {
      cut.writeUInt32BE(k - 4, 0);
      if (attempt(cut) === 'rejected') rejected++;
    }
  }
  t.equal(rejected, valid.length + valid.length - 4);
});

t.test('every single-bit flip gives a batch or a TransportDecodeError', async (t) => {
  let rejected = 0;
  for (let i = 0; i < valid.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(valid);
      copy[i]! ^= 1 << bit;
      if (attempt(copy) === 'rejected') rejected++;
    }
  }
  t.ok(rejected > 0, `${rejected} of ${valid.length * 8} flips rejected, the rest decoded`);
  // Flips in the length prefix, version and counts must all be caught.
  for (let i = 0; i < 5; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(valid);
      copy[i]! ^= 1 << bit;
      t.equal(attempt(copy), 'rejected', `flip in byte ${i} bit ${bit}`);
    }
  }
});

t.test('random byte strings are rejected', async (t) => {
  for (let round = 0; round < 3000; round++) {
    const body = randomBytes(rand, randomInt(rand, 0, 300));
    // Half the time give it a correct prefix and version so it reaches the deeper checks.
    const bytes = rand() < 0.5 ? body : Buffer.concat([u32(body.byteLength + 1), Buffer.of(FRAME_VERSION), body]);
    if (attempt(bytes) !== 'rejected') t.fail(`random input decoded (round ${round})`);
  }
  t.pass('3000 random inputs rejected');
});

t.test('every field replaced by a wrong value, removed, or joined by an extra one is rejected', async (t) => {
  const { header, blobs } = wireBatch(everyMessageType(rand, 'n1', 'n2'));
  const wrong: unknown[] = [null, -1, 1.5, 2 ** 53, '', {}, 'not an id', [[]], '__proto__'];
  let cases = 0;
  for (const path of paths(header)) {
    for (const value of wrong) {
      cases++;
      const frame = rawFrame(mutate(header, path, (p, k) => { p[k] = value; }), blobs);
      if (attempt(frame) !== 'rejected') t.fail(`${path.join('.')} = ${JSON.stringify(value)} decoded`);
    }
    if (typeof path[path.length - 1] === 'string') {
      cases++;
      const frame = rawFrame(mutate(header, path, (p, k) => { delete p[k]; }), blobs);
      if (attempt(frame) !== 'rejected') t.fail(`without ${path.join('.')} decoded`);
    }
  }
  for (let i = 0; i < header.length; i++) {
    cases++;
    if (attempt(rawFrame(mutate(header, [i, 'extra'], (p, k) => { p[k] = 1; }), blobs)) !== 'rejected') t.fail(`extra field in message ${i} decoded`);
  }
  t.ok(cases > 300, `${cases} mutated headers rejected`);
});

t.test('wrong frame structure is rejected', async (t) => {
  const m: Message = { type: 'Snapshot', from: 'a', to: 'b', term: 1, offset: 0, chunk: Uint8Array.of(1, 2), total: 2, done: true,
    meta: { index: 1, term: 1, config: { voters: ['a'], learners: [] } } };
  const { header, blobs } = wireBatch([m]);
  t.equal(attempt(rawFrame(header, blobs)), 'ok');
  const cases: [string, Buffer][] = [
    ['version 0', rawFrame(header, blobs, { version: 0 })],
    ['version 2', rawFrame(header, blobs, { version: 2 })],
    ['empty batch', rawFrame([], [])],
    ['header not an array', rawFrame({ type: 'TimeoutNow' }, blobs)],
    ['header not JSON', rawFrame('[{"type":', blobs)],
    ['header not UTF-8', rawFrame(Buffer.of(0x5b, 0xff, 0x5d).toString('latin1'), blobs)],
    ['unreferenced extra blob', rawFrame(header, [...blobs, Uint8Array.of(9)])],
    ['missing blob', rawFrame(header, [])],
    ['blob lengths too long', rawFrame(header, blobs, { blobLengths: [3] })],
    ['blob lengths too short', rawFrame(header, blobs, { blobLengths: [1] })],
    ['reference to blob 1 of 1', rawFrame(mutate(header, [0, 'chunk'], (p, k) => { p[k] = 1; }), blobs)],
    ['chunk past total', rawFrame(mutate(header, [0, 'total'], (p, k) => { p[k] = 1; }), blobs)],
    ['nested arrays', rawFrame('['.repeat(100_000) + ']'.repeat(100_000), [])],
  ];
  const two = wireBatch([m, m]);
  cases.push(['blobs referenced out of order', rawFrame(mutate(mutate(two.header, [0, 'chunk'], (p, k) => { p[k] = 1; }), [1, 'chunk'], (p, k) => { p[k] = 0; }), two.blobs)]);
  cases.push(['a blob referenced twice', rawFrame(mutate(two.header, [1, 'chunk'], (p, k) => { p[k] = 0; }), two.blobs)]);
  for (const [what, frame] of cases) t.equal(attempt(frame), 'rejected', what);
});

t.test('oversized lengths are rejected at once, without allocating for them', async (t) => {
  const huge = 0xffff_ffff;
  const header = Buffer.from('[{"type":"TimeoutNow","from":"a","to":"b","term":1}]');
  const start = Date.now();
  const cases: [string, Buffer][] = [
    ['frame length', Buffer.concat([u32(huge), Buffer.of(FRAME_VERSION)])],
    ['header length', (() => { const p = Buffer.concat([Buffer.of(FRAME_VERSION), u32(huge)]); return Buffer.concat([u32(p.length), p]); })()],
    ['blob count', (() => { const p = Buffer.concat([Buffer.of(FRAME_VERSION), u32(header.length), header, u32(huge)]); return Buffer.concat([u32(p.length), p]); })()],
    ['blob length', (() => { const p = Buffer.concat([Buffer.of(FRAME_VERSION), u32(header.length), header, u32(1), u32(huge)]); return Buffer.concat([u32(p.length), p]); })()],
  ];
  for (const [what, frame] of cases) t.equal(attempt(frame), 'rejected', what);
  t.equal(attempt(valid, valid.byteLength - 1), 'rejected', 'frame over the configured limit');
  t.ok(Date.now() - start < 1000, 'quickly');
  const reader = new FrameReader(64 * 1024 * 1024);
  reader.push(u32(huge));
  t.throws(() => reader.next(), TransportDecodeError, 'stream reader refuses the length before buffering');
});

t.test('random streams through FrameReader and decodeFrame only ever raise TransportDecodeError', async (t) => {
  let rejected = 0;
  for (let round = 0; round < 300; round++) {
    const reader = new FrameReader(4096);
    const good = encodeFrame(everyMessageType(rand, 'p', 'q').slice(0, randomInt(rand, 1, 11)));
    const noise = randomBytes(rand, randomInt(rand, 1, 2000));
    const stream = Buffer.concat([good, Buffer.from(noise)]);
    try {
      for (let at = 0; at < stream.length;) {
        const n = randomInt(rand, 1, 500);
        reader.push(stream.subarray(at, at + n));
        at += n;
        for (let f = reader.next(); f !== null; f = reader.next()) decodeFrame(f, 4096);
      }
    } catch (err) {
      if (!(err instanceof TransportDecodeError)) throw err;
      rejected++;
    }
  }
  t.ok(rejected > 250, `${rejected} of 300 noisy streams rejected`);
});
