// Live transports on 127.0.0.1: every message type, batching and order, big chunks.
import t, { type Test } from 'tap';
import type { Message } from '../../../src/raft/types.js';
import { everyMessageType, prng, randomBytes, randomInt, startMember, testSeed, waitFor, type Member } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set TRANSPORT_TEST_SEED to replay)`);
const rand = prng(seed);

/** Starts members that all know each other's addresses. */
async function cluster(t: Test, ids: string[], extra = {}): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  for (const id of ids) {
    const m = await startMember(id, new Map(), extra);
    t.teardown(() => m.transport.close());
    members.set(id, m);
  }
  const peers = new Map([...members].map(([id, m]) => [id, m.address]));
  for (const m of members.values()) m.transport.setPeers(peers);
  return members;
}

function get(members: Map<string, Member>, id: string): Member {
  const m = members.get(id);
  if (!m) throw new Error(`no member ${id}`);
  return m;
}

t.test('two members exchange every message type in both directions', async (t) => {
  const members = await cluster(t, ['n1', 'n2']);
  const [a, b] = [get(members, 'n1'), get(members, 'n2')];
  const toB = everyMessageType(rand, 'n1', 'n2');
  const toA = everyMessageType(rand, 'n2', 'n1');
  a.transport.send(toB);
  b.transport.send(toA);
  await waitFor(() => a.received.length === toA.length && b.received.length === toB.length, 'delivery');
  t.same(b.received, toB);
  t.same(a.received, toA);
  t.equal(b.batches.length, 1, 'one send() call arrives as one batch');
  const stats = a.transport.stats();
  t.same(stats.peers['n2'], { connected: true, queuedBytes: 0, sent: toB.length, dropped: 0, reconnects: 0 });
  t.equal(stats.droppedUnaddressed, 0);
});

t.test('many sends in one turn are coalesced into few frames, in order', async (t) => {
  const members = await cluster(t, ['n1', 'n2']);
  const [a, b] = [get(members, 'n1'), get(members, 'n2')];
  a.transport.send([{ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 0 }]);
  await waitFor(() => b.received.length === 1, 'the connection');
  const sent: Message[] = [];
  for (let i = 1; i <= 500; i++) {
    const m: Message = { type: 'HeartbeatResp', from: 'n1', to: 'n2', term: 1, readCtx: i };
    sent.push(m);
    a.transport.send([m]);
  }
  await waitFor(() => b.received.length === 501, 'delivery');
  t.same(b.received.slice(1), sent);
  t.ok(b.batches.length <= 3, `${b.batches.length - 1} frames for 500 sends`);
});

t.test('three members: every link carries its batches intact and in order', async (t) => {
  const ids = ['n1', 'n2', 'n3'];
  const members = await cluster(t, ids);
  const expected = new Map<string, Message[]>(); // key "from>to"
  for (let round = 0; round < 40; round++) {
    for (const from of ids) {
      const batch: Message[] = [];
      for (const to of ids) {
        if (to === from) continue;
        const link = `${from}>${to}`;
        const some = everyMessageType(rand, from, to).slice(0, randomInt(rand, 0, 11));
        for (const m of some) (m as { term: number }).term = round; // a sequence number per link
        batch.push(...some);
        expected.set(link, [...(expected.get(link) ?? []), ...some]);
      }
      get(members, from).transport.send(batch);
    }
    if (round % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const total = [...expected.values()].reduce((n, list) => n + list.length, 0);
  await waitFor(() => [...members.values()].reduce((n, m) => n + m.received.length, 0) === total, 'delivery');
  for (const [link, list] of expected) {
    const [from, to] = link.split('>') as [string, string];
    t.same(get(members, to).received.filter((m) => m.from === from), list, link);
  }
});

t.test('an 8 MiB snapshot chunk goes through', async (t) => {
  const members = await cluster(t, ['n1', 'n2']);
  const [a, b] = [get(members, 'n1'), get(members, 'n2')];
  const chunk = randomBytes(rand, 8 * 1024 * 1024);
  const m: Message = {
    type: 'Snapshot', from: 'n1', to: 'n2', term: 4, offset: 0, chunk, total: chunk.byteLength, done: true,
    meta: { index: 900, term: 3, config: { voters: ['n1', 'n2'], learners: [] } },
  };
  const beat: Message = { type: 'Heartbeat', from: 'n1', to: 'n2', term: 4, commit: 900, readCtx: 0 };
  a.transport.send([m, beat]);
  await waitFor(() => b.received.length === 2, 'delivery', 20_000);
  const got = b.received[0];
  if (got?.type !== 'Snapshot') throw new Error('expected the snapshot first');
  t.equal(got.chunk.byteLength, chunk.byteLength);
  t.ok(Buffer.from(got.chunk).equals(Buffer.from(chunk)), 'bytes intact');
  t.same(b.received[1], beat);
});

t.test('a batch larger than one frame is split across frames, in order', async (t) => {
  const members = await cluster(t, ['n1', 'n2'], { maxFrameBytes: 64 * 1024 });
  const [a, b] = [get(members, 'n1'), get(members, 'n2')];
  const batch: Message[] = Array.from({ length: 40 }, (_, i) => ({
    type: 'Append', from: 'n1', to: 'n2', term: 1, prevIndex: i, prevTerm: 1, commit: 0,
    entries: [{ index: i + 1, term: 1, type: 'command', data: randomBytes(rand, 10_000) }],
  }));
  a.transport.send(batch);
  await waitFor(() => b.received.length === batch.length, 'delivery');
  t.same(b.received, batch);
  t.ok(b.batches.length >= 7, `${b.batches.length} frames`);
});

t.test('messages to unknown members, from another member, or too big are dropped and counted', async (t) => {
  const members = await cluster(t, ['n1', 'n2'], { maxFrameBytes: 4096 });
  const [a, b] = [get(members, 'n1'), get(members, 'n2')];
  const big: Message = { type: 'Snapshot', from: 'n1', to: 'n2', term: 1, offset: 0, chunk: new Uint8Array(5000), total: 5000, done: true,
    meta: { index: 1, term: 1, config: { voters: [], learners: [] } } };
  const malformed = { type: 'Heartbeat', from: 'n1', to: 'n2', term: -1, commit: 0, readCtx: 0 } as Message;
  t.doesNotThrow(() => a.transport.send([
    { type: 'TimeoutNow', from: 'n1', to: 'n9', term: 1 },
    { type: 'TimeoutNow', from: 'n7', to: 'n2', term: 1 },
    big,
    malformed,
    null as unknown as Message,
    { type: 'TimeoutNow', from: 'n1', to: 'n2', term: 2 },
  ]));
  t.doesNotThrow(() => a.transport.send(undefined as unknown as Message[]));
  await waitFor(() => b.received.length === 1, 'the good message');
  t.same(b.received, [{ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 2 }]);
  const stats = a.transport.stats();
  t.equal(stats.droppedUnaddressed, 3);
  t.equal(stats.peers['n2']?.dropped, 2);
});
