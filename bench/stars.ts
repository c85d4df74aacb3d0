// The star catalogue of the bulk-load and listing benchmarks: the Hipparcos NDJSON file
// of the shared test data (118,216 records), or in --quick its first records, loaded once
// per run with `opera import` and shared by the benchmarks that need it.
import { createReadStream, createWriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import type { BenchContext } from './context.js';
import { projectRoot } from './meta-cluster.js';

export const STARS_FILE = resolve(projectRoot, '..', 'shared', 'data', 'hipparcos-stars.ndjson.gz');
export const QUICK_RECORDS = 5000;

export interface StarSet {
  /** The file given to `opera import` (the catalogue, or a slice of it in the scratch space). */
  readonly file: string;
  readonly records: number;
  /** Records per constellation (the keys' first segment). */
  readonly byConstellation: ReadonlyMap<string, number>;
}

/** Reads the catalogue's keys (and in --quick writes its first records to a slice file). */
export async function starSet(ctx: BenchContext): Promise<StarSet> {
  await access(STARS_FILE).catch(() => { throw new Error(`the star catalogue is missing: ../shared/data/hipparcos-stars.ndjson.gz (next to the project)`); });
  const limit = ctx.opts.quick ? QUICK_RECORDS : Infinity;
  const slice = ctx.opts.quick ? join(await ctx.scratch('stars'), 'hipparcos-slice.ndjson') : null;
  const out = slice ? createWriteStream(slice) : null;
  const byConstellation = new Map<string, number>();
  let records = 0;
  const lines = createInterface({ input: createReadStream(STARS_FILE).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (records >= limit) break;
    const key = (JSON.parse(line) as { key: string }).key;
    const c = key.slice(0, key.indexOf('/'));
    byConstellation.set(c, (byConstellation.get(c) ?? 0) + 1);
    records++;
    if (out && !out.write(`${line}\n`)) await once(out, 'drain');
  }
  lines.close();
  if (out) {
    out.end();
    await once(out, 'finish');
  }
  return { file: slice ?? STARS_FILE, records, byConstellation };
}

/** The largest constellation of the set: the prefix listing's subject. */
export function largestConstellation(set: StarSet): { name: string; records: number } {
  const [name, records] = [...set.byConstellation].reduce((a, b) => (b[1] > a[1] ? b : a));
  return { name, records };
}
