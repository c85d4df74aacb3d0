// Fixtures for the node store tests (not a test file itself): temp stores, seeded bytes,
// value sources and readers.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeStore } from '../../../src/node/store/index.js';
import type { ObjectRead, StoreOptions } from '../../../src/node/store/index.js';
import { prng, randomInt } from '../../helpers/prng.js';
export { prng, randomInt };

export interface Teardown {
  teardown(fn: () => unknown): void;
  comment(...message: unknown[]): void;
}

/** The run's seed: $NODE_STORE_TEST_SEED if set, else random; printed so it can be replayed. */
export function seedFor(t: Teardown): number {
  const fromEnv = process.env['NODE_STORE_TEST_SEED'];
  const seed = fromEnv !== undefined ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  t.comment(`seed ${seed} (set NODE_STORE_TEST_SEED to replay)`);
  return seed;
}


/** Fast deterministic bytes: xorshift32 words. */
export function seededBytes(seed: number, length: number): Buffer {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, length);
}

export function sha256hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Yields `data` in pieces of random sizes (some empty) up to `max`. */
export async function* pieces(data: Buffer, rand: () => number, max = 100_000): AsyncGenerator<Buffer> {
  let offset = 0;
  while (offset < data.length) {
    const n = rand() < 0.05 ? 0 : randomInt(rand, 1, max);
    yield data.subarray(offset, offset + n);
    offset += n;
  }
}

export async function* one(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

export async function readAll(read: ObjectRead | null): Promise<Buffer> {
  if (read === null) throw new Error('object not found');
  const parts: Buffer[] = [];
  for await (const piece of read.body) parts.push(piece);
  return Buffer.concat(parts);
}

export async function tempDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'opera-node-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A store in a fresh temp directory, closed and removed at teardown. */
export async function tempStore(t: Teardown, options: StoreOptions = {}): Promise<{ store: NodeStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'opera-node-store-'));
  const store = await NodeStore.open(join(dir, 'db'), options);
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, dir };
}

/** Every key of one record kind ('o', 'c', 'p', 'l') in the raw database. */
export async function rawKeys(store: NodeStore, tag: string): Promise<Buffer[]> {
  const t = tag.charCodeAt(0);
  const out: Buffer[] = [];
  for await (const k of store.db.keys({ gte: Buffer.from([t, 0x2f]), lt: Buffer.from([t, 0x30]) })) out.push(k);
  return out;
}

export const KiB = 1024;

/** The shared real-data folder, found from the project root (the package.json named ours). */
export function sharedDataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'space-opera') {
      return resolve(dir, '../shared/data');
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('project root not found');
    dir = parent;
  }
}
