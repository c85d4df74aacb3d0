// A live listener against raw sockets: garbage, silence, replays, impersonation and
// oversized frames are all closed and logged, and nothing reaches onMessages.
import { connect, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { encodeFrame } from '../../../src/meta/transport/codec.js';
import { DialerHandshake } from '../../../src/meta/transport/handshake.js';
import { CLUSTER, OTHER_SECRET, SECRET, startMember, waitFor, type Member } from './helpers.js';

interface RawPeer {
  readonly socket: Socket;
  /** Everything the listener sent. */
  readonly received: Buffer[];
  readonly closed: Promise<void>;
}

async function rawConnect(t: Test, port: number): Promise<RawPeer> {
  const socket = connect({ host: '127.0.0.1', port });
  t.teardown(() => { socket.destroy(); });
  const received: Buffer[] = [];
  socket.on('data', (b: Buffer) => received.push(b));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received, closed };
}

/** A full, honest handshake done by hand; resolves with every byte the dialer sent. */
async function handshakeByHand(peer: RawPeer, secret: Uint8Array, from: string, to: string): Promise<Buffer> {
  const dialer = new DialerHandshake({ clusterId: CLUSTER, secret }, from, to);
  const hello = dialer.start();
  peer.socket.write(hello);
  await waitFor(() => Buffer.concat(peer.received).length >= 4 + 65, 'CHALLENGE');
  const proof = dialer.onFrame(Buffer.concat(peer.received)).reply!;
  peer.socket.write(proof);
  return Buffer.concat([hello, proof]);
}

async function listener(t: Test, handshakeTimeoutMs = 5000): Promise<Member> {
  const m = await startMember('n2', new Map(), { handshakeTimeoutMs });
  t.teardown(() => m.transport.close());
  return m;
}

const heartbeat = encodeFrame([{ type: 'Heartbeat', from: 'n1', to: 'n2', term: 3, commit: 1, readCtx: 0 }]);

function refusals(m: Member): string[] {
  return m.logs.filter((l) => l.level === 'warn').map((l) => `${l.msg}: ${(l.fields as { reason?: string }).reason}`);
}

t.test('control: an honest hand-made handshake delivers a frame', async (t) => {
  const m = await listener(t);
  const peer = await rawConnect(t, m.transport.port);
  await handshakeByHand(peer, SECRET, 'n1', 'n2');
  peer.socket.write(heartbeat);
  await waitFor(() => m.received.length === 1, 'delivery');
  t.equal(m.received[0]?.type, 'Heartbeat');
});

t.test('garbage instead of a HELLO is closed and logged', async (t) => {
  const m = await listener(t);
  const peer = await rawConnect(t, m.transport.port);
  peer.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'));
  await peer.closed;
  await waitFor(() => refusals(m).length > 0, 'a log line');
  t.match(refusals(m)[0], /refused a connection/);
  t.equal(m.received.length, 0);
});

t.test('a message frame without a handshake is closed and delivers nothing', async (t) => {
  const m = await listener(t);
  const peer = await rawConnect(t, m.transport.port);
  peer.socket.write(heartbeat);
  await peer.closed;
  t.equal(m.received.length, 0);
});

t.test('a silent connection is closed at the handshake deadline', async (t) => {
  const m = await listener(t, 150);
  const peer = await rawConnect(t, m.transport.port);
  const start = Date.now();
  await peer.closed;
  t.ok(Date.now() - start >= 100, 'not before the deadline');
  await waitFor(() => refusals(m).some((r) => /within 150 ms/.test(r)), 'the timeout log line');
});

t.test('the wrong secret gets no CHALLENGE it can use and delivers nothing', async (t) => {
  const m = await listener(t);
  const peer = await rawConnect(t, m.transport.port);
  const dialer = new DialerHandshake({ clusterId: CLUSTER, secret: OTHER_SECRET }, 'n1', 'n2');
  peer.socket.write(dialer.start());
  await waitFor(() => Buffer.concat(peer.received).length >= 69, 'CHALLENGE');
  t.throws(() => dialer.onFrame(Buffer.concat(peer.received)), 'the dialer sees the listener is not one of its own');
  // Pretend otherwise: send a proof made with the wrong secret, then a frame.
  const forged = Buffer.concat([Buffer.of(0, 0, 0, 33, 3), Buffer.alloc(32, 1)]);
  peer.socket.write(Buffer.concat([forged, heartbeat]));
  await peer.closed;
  t.equal(m.received.length, 0);
  await waitFor(() => refusals(m).some((r) => /wrong secret/.test(r)), 'log line');
});

t.test('another cluster or another addressee is refused', async (t) => {
  const m = await listener(t);
  for (const [clusterId, to] of [['other-cluster', 'n2'], [CLUSTER, 'n3']] as const) {
    const peer = await rawConnect(t, m.transport.port);
    peer.socket.write(new DialerHandshake({ clusterId, secret: SECRET }, 'n1', to).start());
    await peer.closed;
    t.equal(Buffer.concat(peer.received).length, 0, `no CHALLENGE for ${clusterId}/${to}`);
  }
  t.equal(m.received.length, 0);
  t.equal(refusals(m).length, 2, refusals(m).join('; '));
});

t.test('replaying a recorded handshake and frame fails', async (t) => {
  const m = await listener(t);
  const first = await rawConnect(t, m.transport.port);
  const recorded = await handshakeByHand(first, SECRET, 'n1', 'n2');
  first.socket.write(heartbeat);
  await waitFor(() => m.received.length === 1, 'the original delivery');
  const replay = await rawConnect(t, m.transport.port);
  replay.socket.write(Buffer.concat([recorded, heartbeat]));
  await replay.closed;
  t.equal(m.received.length, 1, 'the replayed frame was not delivered');
  t.ok(refusals(m).some((r) => /wrong secret/.test(r)));
});

t.test('an authenticated peer speaking for another member is cut off', async (t) => {
  const m = await listener(t);
  const peer = await rawConnect(t, m.transport.port);
  await handshakeByHand(peer, SECRET, 'n3', 'n2');
  peer.socket.write(heartbeat); // claims to come from n1
  await peer.closed;
  t.equal(m.received.length, 0);
  t.ok(refusals(m).some((r) => /authenticated as n3/.test(r)));
});

t.test('an oversized or malformed frame after the handshake closes the connection', async (t) => {
  const m = await startMember('n2', new Map(), { maxFrameBytes: 4096 });
  t.teardown(() => m.transport.close());
  for (const bad of [Buffer.of(0, 0, 0x10, 0), Buffer.concat([Buffer.of(0, 0, 0, 5, 9), Buffer.from('[]]]')])]) {
    const peer = await rawConnect(t, m.transport.port);
    await handshakeByHand(peer, SECRET, 'n1', 'n2');
    peer.socket.write(bad);
    await peer.closed;
  }
  t.equal(m.received.length, 0);
  t.equal(m.logs.filter((l) => /bad frame/.test(l.msg)).length, 2);
});
