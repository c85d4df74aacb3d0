// A 1 GiB value round-trips through one node process, streamed both ways, generated and
// verified on the fly (SHA-256), while the node's peak resident memory (VmHWM, which
// counts everything: heap, buffers, LevelDB's caches and mmapped table pages) stays
// under 300 MB.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { startCluster, objectUrl } from './cluster.js';
import { seedFor, seededBytes } from './store/helpers.js';

const GIB = 1024 ** 3;
const BLOCK = 1024 * 1024;
const LIMIT = 300 * 1000 * 1000;

/** kB fields of /proc/PID/status, in bytes. */
function memoryOf(pid: number): { rss: number; peak: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM'), anon: field('RssAnon') };
}

/** `total` bytes: a random block, each copy stamped with its index so no two blocks are alike. */
function* blocks(seed: number, total: number): Generator<Buffer> {
  const base = seededBytes(seed, BLOCK);
  for (let i = 0; i * BLOCK < total; i++) {
    const b = Buffer.from(base.subarray(0, Math.min(BLOCK, total - i * BLOCK)));
    b.writeUInt32BE(i, 0);
    yield b;
  }
}

t.test('a 1 GiB value through one node with bounded memory', { skip: existsSync('/proc/self/status') ? false : 'needs /proc' }, async (t) => {
  const seed = seedFor(t);
  const begun = Date.now();
  const c = await startCluster(t, { nodes: 1, replication: 1, metaMembers: 1 });
  const map = await c.settled(1);
  t.comment(`cluster ready in ${Date.now() - begun} ms`);
  const node = c.nodes[0]!;
  const pid = node.proc!.child.pid!;
  const token = c.token('client');
  const key = 'gaia-dr3/full-catalogue';
  const p = c.partitionOf(key);
  t.equal(map.partitions[p]!.primary, node.id);

  let peakSeen = 0;
  const sampler = setInterval(() => (peakSeen = Math.max(peakSeen, memoryOf(pid).rss)), 200);
  t.teardown(() => clearInterval(sampler));

  const sent = createHash('sha256');
  const source = blocks(seed, GIB);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = source.next();
      if (next.done === true) return controller.close();
      sent.update(next.value);
      controller.enqueue(next.value);
    },
  });
  const started = Date.now();
  const res = await fetch(objectUrl(node, p, key), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-length': String(GIB) },
    body,
    duplex: 'half',
  } as RequestInit);
  t.equal(res.status, 201, 'stored');
  const written = (await res.json()) as { size: number; digest: string };
  const digest = sent.digest('hex');
  t.equal(written.size, GIB);
  t.equal(written.digest, digest, 'the node hashed what was sent');
  const putMs = Date.now() - started;

  const back = await fetch(objectUrl(node, p, key), { headers: { authorization: `Bearer ${token}` } });
  t.equal(back.status, 200);
  t.equal(back.headers.get('content-length'), String(GIB));
  const received = createHash('sha256');
  let length = 0;
  for await (const piece of back.body as unknown as AsyncIterable<Uint8Array>) {
    received.update(piece);
    length += piece.byteLength;
  }
  t.equal(length, GIB);
  t.equal(received.digest('hex'), digest, 'read back intact');
  const getMs = Date.now() - started - putMs;

  const mem = memoryOf(pid);
  const mb = (n: number): string => (n / 1e6).toFixed(0);
  t.comment(`PUT ${putMs} ms, GET ${getMs} ms; node peak RSS (VmHWM) ${mb(mem.peak)} MB, sampled max ${mb(peakSeen)} MB, RSS now ${mb(mem.rss)} MB (anonymous ${mb(mem.anon)} MB)`);
  t.ok(mem.peak < LIMIT, `node peak RSS ${mb(mem.peak)} MB is under ${mb(LIMIT)} MB`);
});
