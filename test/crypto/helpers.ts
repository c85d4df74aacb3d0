// Shared test helpers for the crypto suite: a seeded PRNG and stream plumbing.
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { prng, randomInt } from '../helpers/prng.js';
export { prng, randomInt };

/** The run's seed: $CRYPTO_TEST_SEED if set, else random. Tests print it so a failure can be replayed. */
export function testSeed(): number {
  const fromEnv = process.env.CRYPTO_TEST_SEED;
  return fromEnv !== undefined ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}


/** Deterministic pseudo-random bytes. */
export function seededBytes(rand: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Cuts `data` into pieces of random sizes (empty pieces included) up to `maxChunk`. */
export function randomChunks(rand: () => number, data: Buffer, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const n = rand() < 0.05 ? 0 : randomInt(rand, 1, maxChunk);
    chunks.push(data.subarray(offset, offset + n));
    offset += n;
  }
  return chunks;
}

/** Runs `chunks` through `transform`; resolves with everything it output, rejects with its error. */
export async function runThrough(transform: Transform, chunks: readonly Buffer[], sink: Buffer[] = []): Promise<Buffer> {
  await pipeline(Readable.from(chunks), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) sink.push(chunk);
  });
  return Buffer.concat(sink);
}
