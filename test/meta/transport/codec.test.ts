import t from 'tap';
import {
  decodeFrame, DEFAULT_MAX_FRAME_BYTES, encodeFrame, FRAME_OVERHEAD_BYTES, FRAME_VERSION, measureMessage,
} from '../../../src/meta/transport/codec.js';
import { TransportDecodeError, TransportEncodeError } from '../../../src/meta/transport/errors.js';
import { FrameReader } from '../../../src/meta/transport/frame-reader.js';
import type { Message } from '../../../src/raft/types.js';
import { everyMessageType, prng, randomInt, testSeed } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set TRANSPORT_TEST_SEED to replay)`);
const rand = prng(seed);

t.test('every message type round-trips alone', async (t) => {
  for (const m of everyMessageType(rand, 'n1', 'n2')) {
    t.same(decodeFrame(encodeFrame([m])), [m], m.type);
  }
});

t.test('a mixed batch round-trips in order, with binary fields intact', async (t) => {
  for (let round = 0; round < 50; round++) {
    const batch = [...everyMessageType(rand, 'a', 'b'), ...everyMessageType(rand, 'a', 'b')]
      .sort(() => rand() - 0.5);
    const decoded = decodeFrame(encodeFrame(batch));
    t.same(decoded, batch);
    for (const m of decoded) {
      if (m.type === 'Snapshot') t.ok(m.chunk instanceof Uint8Array);
      if (m.type === 'Append') for (const e of m.entries) t.ok(e.data instanceof Uint8Array);
    }
  }
});

t.test('the frame starts with its length and version', async (t) => {
  const frame = encodeFrame([{ type: 'TimeoutNow', from: 'a', to: 'b', term: 1 }]);
  t.equal(frame.readUInt32BE(0), frame.byteLength - 4);
  t.equal(frame[4], FRAME_VERSION);
});

t.test('decoded bytes are copies that do not pin the frame', async (t) => {
  const data = Uint8Array.of(1, 2, 3);
  const frame = encodeFrame([{ type: 'Append', from: 'a', to: 'b', term: 1, prevIndex: 0, prevTerm: 0, commit: 0,
    entries: [{ index: 1, term: 1, type: 'command', data }] }]);
  const [m] = decodeFrame(frame);
  if (m?.type !== 'Append') throw new Error('expected Append');
  frame.fill(0);
  t.same(Array.from(m.entries[0]!.data), [1, 2, 3]);
  t.equal(m.entries[0]!.data.buffer.byteLength, 3);
});

t.test('measureMessage bounds the encoded size from above', async (t) => {
  for (let round = 0; round < 30; round++) {
    const batch = everyMessageType(rand, 'n1', 'n2').slice(0, randomInt(rand, 1, 11));
    const bound = FRAME_OVERHEAD_BYTES + batch.reduce((sum, m) => sum + measureMessage(m), 0);
    t.ok(encodeFrame(batch).byteLength <= bound, `round ${round}`);
  }
});

t.test('measureMessage refuses what a receiver would refuse', async (t) => {
  const good: Message = { type: 'HeartbeatResp', from: 'a', to: 'b', term: 1, readCtx: 0 };
  const bad: unknown[] = [
    { ...good, term: -1 },
    { ...good, term: 1.5 },
    { ...good, term: Number.NaN },
    { ...good, from: '' },
    { ...good, to: 'has space' },
    { ...good, readCtx: '1' },
    { ...good, type: 'Bogus' },
    { type: 'Append', from: 'a', to: 'b', term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'weird', data: new Uint8Array(0) }] },
    { type: 'Append', from: 'a', to: 'b', term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'noop', data: 'text' }] },
    { type: 'Append', from: 'a', to: 'b', term: 1, prevIndex: 0, prevTerm: 0, commit: 0 },
    null,
  ];
  t.type(measureMessage(good), 'number');
  for (const m of bad) t.throws(() => measureMessage(m as Message), TransportEncodeError, JSON.stringify(m));
});

t.test('encodeFrame refuses an empty batch and a frame over the limit', async (t) => {
  t.throws(() => encodeFrame([]), TransportEncodeError);
  const chunk = new Uint8Array(2000);
  const m: Message = { type: 'Snapshot', from: 'a', to: 'b', term: 1, offset: 0, chunk, total: 2000, done: true,
    meta: { index: 1, term: 1, config: { voters: ['a'], learners: [] } } };
  t.throws(() => encodeFrame([m], 1024), TransportEncodeError);
  t.ok(encodeFrame([m], 4096).byteLength < 4096);
});

t.test('decodeFrame enforces the frame limit', async (t) => {
  const m: Message = { type: 'TimeoutNow', from: 'a', to: 'b', term: 1 };
  const frame = encodeFrame([m]);
  t.throws(() => decodeFrame(frame, frame.byteLength - 1), TransportDecodeError);
  t.same(decodeFrame(frame, frame.byteLength), [m]);
  t.equal(DEFAULT_MAX_FRAME_BYTES, 64 * 1024 * 1024);
});

t.test('FrameReader reassembles frames from any chunking', async (t) => {
  const batches = Array.from({ length: 20 }, () => everyMessageType(rand, 'x', 'y').slice(0, randomInt(rand, 1, 11)));
  const stream = Buffer.concat(batches.map((b) => encodeFrame(b)));
  for (let round = 0; round < 20; round++) {
    const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
    const out: Message[][] = [];
    for (let at = 0; at < stream.length;) {
      const n = round === 0 ? 1 : randomInt(rand, 1, 700);
      reader.push(stream.subarray(at, at + n));
      at += n;
      for (let f = reader.next(); f !== null; f = reader.next()) out.push(decodeFrame(f));
    }
    t.same(out, batches, `round ${round}`);
    t.equal(reader.buffered, 0);
  }
});

t.test('FrameReader refuses an oversized length as soon as it is read', async (t) => {
  const reader = new FrameReader(1024);
  reader.push(Buffer.from([0xff, 0xff]));
  t.equal(reader.next(), null);
  reader.push(Buffer.from([0xff, 0xff]));
  t.throws(() => reader.next(), TransportDecodeError);
});
