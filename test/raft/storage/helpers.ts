// Shared fixtures for the Raft storage tests (not a test file itself).

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, EntryType, HardState, Snapshot } from '../../../src/raft/types.js';
import { decodeSegmentHeader, readRecord, saltSeed, SEGMENT_HEADER_BYTES } from '../../../src/raft/storage/record.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function tempDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'opera-raft-storage-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function entry(index: number, term: number, text = `cmd-${index}-${term}`, type: EntryType = 'command'): Entry {
  return { index, term, type, data: new Uint8Array(Buffer.from(text)) };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

export function hs(term: number, commit: number, vote: string | null = null): HardState {
  return { term, vote, commit };
}

export function snapshot(index: number, term: number, text = `state@${index}`): Snapshot {
  return { meta: { index, term, config: { voters: ['a', 'b', 'c'], learners: ['d'] } }, data: new Uint8Array(Buffer.from(text)) };
}

/** Segment file names in `dir`, ascending. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
}

/** [start, end) byte ranges of the records of a segment file. */
export async function recordRanges(path: string): Promise<Array<[number, number]>> {
  const buf = await readFile(path);
  const header = decodeSegmentHeader(buf);
  if (!header.ok) throw new Error(`bad header in ${path}: ${header.reason}`);
  const seed = saltSeed(header.salt);
  const out: Array<[number, number]> = [];
  let off = SEGMENT_HEADER_BYTES;
  while (off < buf.length) {
    const r = readRecord(buf, off, seed);
    if (!r.ok) throw new Error(`bad record at ${off} in ${path}: ${r.reason}`);
    out.push([off, r.end]);
    off = r.end;
  }
  return out;
}

/** Small deterministic PRNG (mulberry32) so randomized tests replay from a printed seed. */
export { prng as rng } from '../../helpers/prng.js';

/** Plain-object form of a stored state, so t.same compares bytes, not Buffer vs Uint8Array. */
export function plain(state: { hardState: HardState; snapshot: Snapshot | null; entries: Entry[] }): unknown {
  return {
    hardState: { ...state.hardState },
    snapshot: state.snapshot && { meta: state.snapshot.meta, data: Buffer.from(state.snapshot.data).toString('hex') },
    entries: state.entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('hex') })),
  };
}
