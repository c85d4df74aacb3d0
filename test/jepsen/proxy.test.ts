// The fault-injecting TCP proxy: forwards, holds bytes while blocked (both ways or one
// way), delivers them on heal, delays in order.
import { createServer, connect, type Server, type Socket } from 'node:net';
import t from 'tap';
import { FaultProxy } from './net/proxy.js';
import type { Teardownable } from '../helpers/processes.js';

/** An echo-less server that records what it got and lets the test write back. */
async function target(): Promise<{ server: Server; port: number; received: () => string; sockets: Socket[] }> {
  let got = '';
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (b: Buffer) => (got += b.toString()));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, received: () => got, sockets };
}

async function dial(port: number): Promise<{ socket: Socket; received: () => string }> {
  let got = '';
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('data', (b: Buffer) => (got += b.toString()));
  socket.on('error', () => {});
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, received: () => got };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function setup(t: Teardownable): Promise<{ proxy: FaultProxy; server: Awaited<ReturnType<typeof target>>; client: Awaited<ReturnType<typeof dial>> }> {
  const server = await target();
  const proxy = new FaultProxy('test', { host: '127.0.0.1', port: server.port });
  await proxy.start();
  t.teardown(async () => {
    await proxy.stop();
    for (const s of server.sockets) s.destroy();
    await new Promise<void>((r) => server.server.close(() => r()));
  });
  const client = await dial(proxy.port);
  t.teardown(() => client.socket.destroy());
  await until('the upstream connection', () => server.sockets.length === 1);
  return { proxy, server, client };
}

t.test('forwards both ways', async (t) => {
  const { server, client } = await setup(t);
  client.socket.write('ping');
  await until('ping', () => server.received() === 'ping');
  server.sockets[0]!.write('pong');
  await until('pong', () => client.received() === 'pong');
});

t.test('a blocked link drops nothing through, and delivers on heal', async (t) => {
  const { proxy, server, client } = await setup(t);
  proxy.block();
  client.socket.write('one');
  server.sockets[0]!.write('two');
  await sleep(300);
  t.equal(server.received(), '', 'nothing reaches the target');
  t.equal(client.received(), '', 'nothing reaches the dialler');
  proxy.heal();
  await until('both after heal', () => server.received() === 'one' && client.received() === 'two');
  t.pass('held bytes arrive after heal, in order');
});

t.test('one-way: forward blocked, answers still flow', async (t) => {
  const { proxy, server, client } = await setup(t);
  proxy.block(['forward']);
  client.socket.write('request');
  server.sockets[0]!.write('notice');
  await until('the backward bytes', () => client.received() === 'notice');
  await sleep(200);
  t.equal(server.received(), '', 'the forward bytes are held');
  proxy.heal();
  await until('the forward bytes', () => server.received() === 'request');
});

t.test('one-way: backward blocked, requests still flow', async (t) => {
  const { proxy, server, client } = await setup(t);
  proxy.block(['backward']);
  client.socket.write('request');
  server.sockets[0]!.write('answer');
  await until('the forward bytes', () => server.received() === 'request');
  await sleep(200);
  t.equal(client.received(), '', 'the answer is held');
  proxy.heal();
  await until('the answer', () => client.received() === 'answer');
});

t.test('a close is held by a blocked link too', async (t) => {
  const { proxy, server, client } = await setup(t);
  proxy.block();
  let closed = false;
  client.socket.on('close', () => (closed = true));
  server.sockets[0]!.destroy();
  await sleep(200);
  t.equal(closed, false, 'the dialler does not learn of the close while partitioned');
  proxy.heal();
  await until('the close', () => closed);
});

t.test('delay: bytes arrive late and in order', async (t) => {
  const { proxy, server, client } = await setup(t);
  proxy.delay(250);
  const start = Date.now();
  for (let i = 0; i < 10; i++) client.socket.write(String(i));
  await until('all bytes', () => server.received() === '0123456789');
  t.ok(Date.now() - start >= 240, `took ${Date.now() - start} ms`);
  proxy.heal();
  const again = Date.now();
  client.socket.write('x');
  await until('undelayed', () => server.received().endsWith('x'));
  t.ok(Date.now() - again < 200, 'no delay after heal');
});

t.test('new connections made during a partition are held too', async (t) => {
  const { proxy, server } = await setup(t);
  proxy.block();
  const late = await dial(proxy.port);
  t.teardown(() => late.socket.destroy());
  late.socket.write('late');
  await sleep(200);
  t.notOk(server.received().includes('late'));
  proxy.heal();
  await until('late bytes', () => server.received().includes('late'));
});

t.test('jitter reorders across connections, never within one', async (t) => {
  const { proxy, server, client } = await setup(t);
  const second = await dial(proxy.port);
  t.teardown(() => second.socket.destroy());
  await until('the second upstream connection', () => server.sockets.length === 2);
  // The first chunk draws a long delay, every later one none.
  let draws = 0;
  proxy.jitter(400, () => (draws++ === 0 ? 0.9 : 0));
  client.socket.write('a1');
  await sleep(50);
  client.socket.write('a2');
  second.socket.write('b1');
  await until('all three', () => server.received().length === 6);
  t.equal(server.received(), 'b1a1a2', 'b1 overtook a1; a2 stayed behind a1');
});

t.test('a fault of one source address holds only that caller; heal delivers', async (t) => {
  const server = await target();
  const proxy = new FaultProxy('test', { host: '127.0.0.1', port: server.port });
  await proxy.start();
  const a = connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.11' });
  const b = connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.12' });
  t.teardown(async () => {
    a.destroy();
    b.destroy();
    await proxy.stop();
    for (const s of server.sockets) s.destroy();
    await new Promise<void>((r) => server.server.close(() => r()));
  });
  for (const s of [a, b]) s.on('error', () => {});
  await Promise.all([a, b].map((s) => new Promise<void>((r) => s.once('connect', () => r()))));
  proxy.blockFrom('127.0.0.11');
  a.write('from-a;');
  b.write('from-b;');
  await until('b through', () => server.received().includes('from-b;'));
  await sleep(200);
  t.notOk(server.received().includes('from-a;'), 'the blocked source is held');
  t.ok(proxy.faultFor('127.0.0.11').block.has('forward'));
  t.equal(proxy.faultFor('127.0.0.12').block.size, 0, 'another source sees no fault');
  proxy.heal();
  await until('a after heal', () => server.received().includes('from-a;'));
  t.equal(proxy.faultFor('127.0.0.11').block.size, 0, 'heal clears the per-source fault');
});
