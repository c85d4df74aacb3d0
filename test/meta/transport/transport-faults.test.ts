// Live transports under faults: restarts, dead and stalled peers, impostors,
// misaddressed connections and peer table changes.
import { createServer, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { FrameReader } from '../../../src/meta/transport/frame-reader.js';
import { HANDSHAKE_MAX_FRAME_BYTES, ListenerHandshake } from '../../../src/meta/transport/handshake.js';
import type { Message } from '../../../src/raft/types.js';
import { CLUSTER, delay, OTHER_SECRET, SECRET, startMember, waitFor, type Member } from './helpers.js';

const beat = (from: string, to: string, readCtx: number): Message => ({ type: 'Heartbeat', from, to, term: 1, commit: 0, readCtx });

async function member(t: Test, id: string, peers: Map<string, string>, extra = {}): Promise<Member> {
  const m = await startMember(id, peers, extra);
  t.teardown(() => m.transport.close());
  return m;
}

/** A port that was free a moment ago: nothing listens on it. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

t.test('a peer that restarts on the same port is reconnected to automatically', async (t) => {
  let b = await startMember('n2', new Map());
  const port = b.transport.port;
  t.teardown(() => b.transport.close());
  const a = await member(t, 'n1', new Map([['n2', b.address]]));
  a.transport.send([beat('n1', 'n2', 1)]);
  await waitFor(() => b.received.length === 1, 'first delivery');
  await b.transport.close();
  await waitFor(() => a.transport.stats().peers['n2']?.connected === false, 'the disconnect');
  b = await startMember('n2', new Map(), { port });
  let i = 2;
  // Keep sending, as Raft does with heartbeats, until the new incarnation hears one.
  await waitFor(() => {
    a.transport.send([beat('n1', 'n2', i++)]);
    return b.received.length > 0;
  }, 'delivery after the restart');
  a.transport.send([beat('n1', 'n2', 1000)]);
  await waitFor(() => b.received.some((m) => m.type === 'Heartbeat' && m.readCtx === 1000), 'steady flow');
  const stats = a.transport.stats().peers['n2']!;
  t.ok(stats.connected);
  t.ok(stats.reconnects >= 1, `${stats.reconnects} reconnects`);
});

t.test('a dead peer: send() returns at once, the queue stays bounded, drops are counted', async (t) => {
  const address = await deadAddress();
  const maxQueueBytes = 16 * 1024;
  const a = await member(t, 'n1', new Map([['n2', address]]), { maxQueueBytes });
  const payload = new Uint8Array(1000);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) {
    a.transport.send([{ type: 'Append', from: 'n1', to: 'n2', term: 1, prevIndex: i, prevTerm: 1, commit: 0,
      entries: [{ index: i + 1, term: 1, type: 'command', data: payload }] }]);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.ok(ms < 2000, `2000 sends took ${ms.toFixed(0)} ms`);
  const stats = a.transport.stats().peers['n2']!;
  t.ok(stats.queuedBytes <= maxQueueBytes, `${stats.queuedBytes} bytes queued`);
  t.ok(stats.dropped >= 1900, `${stats.dropped} dropped`);
  t.equal(stats.connected, false);
  await delay(400); // a few redials with backoff
  t.ok(a.transport.stats().peers['n2']!.reconnects >= 2, 'it keeps redialling');
  t.equal(a.logs.filter((l) => l.msg === 'raft transport could not connect').length, 1, 'a dead peer is logged once, not per retry');
});

t.test('a queued backlog is delivered, newest kept, once the peer comes up', async (t) => {
  const address = await deadAddress();
  const port = Number(address.split(':')[1]);
  const a = await member(t, 'n1', new Map([['n2', address]]), { maxQueueBytes: 4096 });
  for (let i = 0; i < 200; i++) a.transport.send([beat('n1', 'n2', i)]);
  const b = await member(t, 'n2', new Map(), { port });
  a.transport.send([beat('n1', 'n2', 200)]); // wakes an idle link
  await waitFor(() => b.received.some((m) => m.type === 'Heartbeat' && m.readCtx === 200), 'the backlog', 5000);
  const ctxs = b.received.map((m) => (m.type === 'Heartbeat' ? m.readCtx : -1));
  t.same(ctxs, [...ctxs].sort((x, y) => x - y), 'in order');
  t.ok(ctxs.length < 201 && !ctxs.includes(0), 'the oldest were dropped');
});

t.test('a stalled reader: writes wait for drain, memory stays bounded, send() never blocks', async (t) => {
  // A listener that completes the handshake and then never reads again.
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const hs = new ListenerHandshake({ clusterId: CLUSTER, secret: SECRET }, 'n2');
    const reader = new FrameReader(HANDSHAKE_MAX_FRAME_BYTES);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let f = reader.next(); f !== null; f = reader.next()) {
        const step = hs.onFrame(f);
        if (step.reply) socket.write(step.reply);
        if (step.peer) {
          socket.pause();
          socket.removeAllListeners('data');
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  const { port } = server.address() as { port: number };
  const maxQueueBytes = 1024 * 1024;
  const a = await member(t, 'n1', new Map([['n2', `127.0.0.1:${port}`]]), { maxQueueBytes });
  const data = new Uint8Array(64 * 1024);
  for (let round = 0; round < 60; round++) {
    for (let i = 0; i < 10; i++) {
      a.transport.send([{ type: 'Append', from: 'n1', to: 'n2', term: 1, prevIndex: 0, prevTerm: 0, commit: 0,
        entries: [{ index: 1, term: 1, type: 'command', data }] }]);
    }
    await delay(2);
  }
  const stats = a.transport.stats().peers['n2']!;
  t.ok(stats.connected, 'connected');
  t.ok(stats.queuedBytes <= maxQueueBytes, `${stats.queuedBytes} bytes queued`);
  t.ok(stats.dropped > 0, `${stats.dropped} dropped, ${stats.sent} written before the socket filled`);
  t.ok(stats.sent < 600, 'the writer stopped at the full socket');
});

t.test('a transport with another secret is refused both ways and delivers nothing', async (t) => {
  const b = await member(t, 'n2', new Map());
  const a = await member(t, 'n1', new Map([['n2', b.address]]), { secret: OTHER_SECRET });
  b.transport.setPeers(new Map([['n1', a.address]]));
  for (let i = 0; i < 5; i++) {
    a.transport.send([beat('n1', 'n2', i)]);
    b.transport.send([beat('n2', 'n1', i)]);
    await delay(60);
  }
  t.equal(a.received.length + b.received.length, 0, 'nothing delivered');
  t.equal(a.transport.stats().peers['n2']?.connected, false);
  t.equal(b.transport.stats().peers['n1']?.connected, false);
  t.ok(b.logs.some((l) => l.msg === 'raft transport refused a connection'), 'the listener logged the impostor');
  t.ok(a.logs.some((l) => l.msg === 'raft transport could not connect' && /wrong secret/.test(JSON.stringify(l.fields))), 'the dialer logged the impostor');
});

t.test('another cluster id is refused', async (t) => {
  const b = await member(t, 'n2', new Map());
  const a = await member(t, 'n1', new Map([['n2', b.address]]), { clusterId: 'elsewhere' });
  for (let i = 0; i < 3; i++) {
    a.transport.send([beat('n1', 'n2', i)]);
    await delay(60);
  }
  t.equal(b.received.length, 0);
  t.ok(b.logs.some((l) => /another cluster/.test(JSON.stringify(l.fields))));
});

t.test('a connection addressed to another member is refused', async (t) => {
  const c = await member(t, 'n3', new Map());
  // n1 believes n2 lives at n3's address.
  const a = await member(t, 'n1', new Map([['n2', c.address]]));
  for (let i = 0; i < 3; i++) {
    a.transport.send([beat('n1', 'n2', i)]);
    await delay(60);
  }
  t.equal(c.received.length, 0);
  t.ok(c.logs.some((l) => /addressed to another member/.test(JSON.stringify(l.fields))));
});

t.test('setPeers moves, adds and removes peers', async (t) => {
  const b = await member(t, 'n2', new Map());
  const c = await member(t, 'n3', new Map());
  const a = await member(t, 'n1', new Map([['n2', b.address]]));
  a.transport.send([beat('n1', 'n2', 1)]);
  await waitFor(() => b.received.length === 1, 'n2');
  // n2 "moves" to a new incarnation elsewhere; n3 joins.
  const b2 = await member(t, 'n2', new Map());
  a.transport.setPeers(new Map([['n2', b2.address], ['n3', c.address], ['n1', a.address]]));
  t.same(Object.keys(a.transport.stats().peers).sort(), ['n2', 'n3'], 'its own id is ignored');
  a.transport.send([beat('n1', 'n2', 2), beat('n1', 'n3', 3)]);
  await waitFor(() => b2.received.length === 1 && c.received.length === 1, 'both');
  a.transport.setPeers(new Map([['n3', c.address]]));
  a.transport.send([beat('n1', 'n2', 4)]);
  t.same(Object.keys(a.transport.stats().peers), ['n3']);
  t.equal(a.transport.stats().droppedUnaddressed, 1);
  t.throws(() => a.transport.setPeers(new Map([['n3', 'no-port']])), RangeError);
  t.throws(() => a.transport.setPeers(new Map([['bad id', '127.0.0.1:1']])), RangeError);
  t.same(Object.keys(a.transport.stats().peers), ['n3'], 'a bad table changes nothing');
});

t.test('bad options are refused with clear errors', async (t) => {
  await t.rejects(startMember('n1', new Map(), { secret: new Uint8Array(16) }), RangeError);
  await t.rejects(startMember('bad id', new Map()), RangeError);
  await t.rejects(startMember('n1', new Map([['n2', '127.0.0.1']])), RangeError);
  await t.rejects(startMember('n1', new Map(), { maxFrameBytes: 10 }), RangeError);
  await t.rejects(startMember('n1', new Map(), { maxQueueBytes: 0 }), RangeError);
});
