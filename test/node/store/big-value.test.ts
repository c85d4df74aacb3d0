// A 200 MB value streamed in and out with bounded memory: the bytes are generated on the
// fly and never held whole, and RSS growth must stay far below the value's size.
//
// The bound is on anonymous RSS (Linux RssAnon): LevelDB mmaps its table files for reads,
// so plain RSS also counts clean, file-backed page-cache pages of the database (about the
// size of the data read), which the kernel reclaims at will and which are not our memory.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { seedFor, tempStore } from './helpers.js';

const TOTAL = 200 * 1024 * 1024;
const PIECE = 64 * 1024;
const MAX_RSS_GROWTH = 100 * 1024 * 1024; // half the value

/** Anonymous resident memory where Linux reports it, else plain RSS. */
function anonRss(): number {
  if (existsSync('/proc/self/status')) {
    const line = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (line?.[1] !== undefined) return Number(line[1]) * 1024;
  }
  return process.memoryUsage().rss;
}

/** Deterministic pseudo-random pieces (xorshift32), `total` bytes in all. */
async function* generate(seed: number, total: number, sample: () => void): AsyncGenerator<Buffer> {
  let x = seed >>> 0 || 1;
  for (let sent = 0; sent < total; sent += PIECE) {
    const words = new Uint32Array(Math.min(PIECE, total - sent) / 4);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      words[i] = x;
    }
    sample();
    yield Buffer.from(words.buffer);
  }
}

t.test('a 200 MB value streams in and out with bounded memory', async (t) => {
  const seed = seedFor(t);
  const { store } = await tempStore(t);
  const baseline = anonRss();
  const rssBaseline = process.memoryUsage().rss;
  let peak = baseline;
  let rssPeak = rssBaseline;
  const sample = (): void => {
    peak = Math.max(peak, anonRss());
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  };

  const expected = createHash('sha256');
  const source = (async function* () {
    for await (const piece of generate(seed, TOTAL, sample)) {
      expected.update(piece);
      yield piece;
    }
  })();
  const meta = await store.putStream(3, 'gaia-dr3/big', { contentType: 'application/octet-stream' }, source);
  const digest = expected.digest('hex');
  t.equal(meta.size, TOTAL);
  t.equal(meta.digest, digest, 'digest computed while streaming');

  const read = await store.getStream(3, 'gaia-dr3/big');
  if (read === null) throw new Error('big value not found');
  const actual = createHash('sha256');
  let length = 0;
  for await (const piece of read.body) {
    actual.update(piece);
    length += piece.length;
    sample();
  }
  t.equal(length, TOTAL);
  t.equal(actual.digest('hex'), digest, 'read back intact');

  const growth = peak - baseline;
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
  t.comment(`anonymous RSS growth ${mib(growth)} MiB, RSS growth ${mib(rssPeak - rssBaseline)} MiB (with mmapped tables), value ${mib(TOTAL)} MiB`);
  t.ok(growth < MAX_RSS_GROWTH, `anonymous RSS growth under ${mib(MAX_RSS_GROWTH)} MiB`);
  t.same((await store.stats()).map((s) => [s.partition, s.objects, s.bytes]), [[3, 1, TOTAL]]);
});
