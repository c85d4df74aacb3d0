// Frame duplication in the fault proxy: a proxy that knows the forward stream's framing
// (u32-length-prefixed, as meta's Raft transport) sends whole frames twice, never the
// handshake frames, never half a frame; a byte-stream proxy refuses to duplicate.
import { createServer, connect, type Socket } from 'node:net';
import t from 'tap';
import { FaultProxy } from './net/proxy.js';

function frame(text: string): Buffer {
  const body = Buffer.from(text);
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** A server that collects the frames it receives. */
async function frameServer(t: { teardown(fn: () => unknown): void }): Promise<{ port: number; frames: string[] }> {
  const frames: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    s.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const n = buf.readUInt32BE(0);
        frames.push(buf.subarray(4, 4 + n).toString());
        buf = buf.subarray(4 + n);
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as { port: number }).port, frames };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

t.test('whole frames twice, the handshake once', async (t) => {
  const srv = await frameServer(t);
  const proxy = new FaultProxy('a->b', { host: '127.0.0.1', port: srv.port }, { skip: 2 });
  await proxy.start();
  t.teardown(() => proxy.stop());
  proxy.duplicate(1);
  const c = connect(proxy.port, '127.0.0.1');
  t.teardown(() => c.destroy());
  await new Promise<void>((r) => c.once('connect', () => r()));
  c.write(frame('hello'));
  c.write(frame('proof'));
  for (let i = 0; i < 20; i++) c.write(frame(`m${i}`));
  // A frame cut in bytes, and two frames in one write.
  const cut = frame('split');
  for (const b of cut) c.write(Buffer.of(b));
  c.write(Buffer.concat([frame('x'), frame('y')]));
  await until(() => srv.frames.length >= 2 + 2 * 23);
  t.same(srv.frames.slice(0, 2), ['hello', 'proof'], 'the handshake frames once');
  const expected = [...Array.from({ length: 20 }, (_, i) => `m${i}`), 'split', 'x', 'y'].flatMap((m) => [m, m]);
  t.same(srv.frames.slice(2), expected, 'every later frame twice, whole and in order');
  t.equal(proxy.duplicated, 23);

  proxy.heal();
  c.write(frame('after'));
  await until(() => srv.frames.includes('after'));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(srv.frames.filter((f) => f === 'after').length, 1, 'healed: once again');
});

t.test('a probability, and proxies of byte streams', async (t) => {
  const srv = await frameServer(t);
  const proxy = new FaultProxy('a->b', { host: '127.0.0.1', port: srv.port }, { skip: 0 });
  await proxy.start();
  t.teardown(() => proxy.stop());
  let i = 0;
  proxy.duplicate(0.5, () => (i++ % 2 === 0 ? 0.1 : 0.9));
  const c = connect(proxy.port, '127.0.0.1');
  t.teardown(() => c.destroy());
  await new Promise<void>((r) => c.once('connect', () => r()));
  for (let k = 0; k < 10; k++) c.write(frame(`f${k}`));
  await until(() => srv.frames.length >= 15);
  t.equal(srv.frames.length, 15, 'every other frame twice');
  const plain = new FaultProxy('n1', { host: '127.0.0.1', port: srv.port });
  t.throws(() => plain.duplicate(0.5), /byte stream/);
});
