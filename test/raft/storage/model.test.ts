// Seeded random workloads against a plain in-memory model: appends with conflicts,
// compactions, received snapshots, tiny segments, restarts, and torn last records.

import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RaftStorage, type SaveBatch } from '../../../src/raft/storage/index.js';
import { writeSnapshotFile } from '../../../src/raft/storage/snapshot-file.js';
import type { Entry, HardState, Snapshot } from '../../../src/raft/types.js';
import { entry, plain, recordRanges, rng, segmentFiles, snapshot, tempDir } from './helpers.js';

interface Model {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

function lastIndex(m: Model): number {
  return (m.snapshot?.meta.index ?? 0) + m.entries.length;
}

function termAt(m: Model, i: number): number {
  const base = m.snapshot?.meta.index ?? 0;
  return i === base ? (m.snapshot?.meta.term ?? 0) : m.entries[i - base - 1]!.term;
}

const SEGMENT = 1536;

async function run(t: Test, seed: number, steps: number): Promise<void> {
  t.comment(`seed ${seed}`);
  const next = rng(seed);
  const pick = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const dir = await tempDir(t);
  const opts = { segmentBytes: SEGMENT, sync: false };
  let s = await RaftStorage.open(dir, opts);
  t.teardown(() => s.close());
  let m: Model = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
  if (seed % 2 === 0) {
    // Start like a bootstrapped meta member: a snapshot at index 0 with the first config.
    const boot: Snapshot = { meta: { index: 0, term: 0, config: { voters: ['a', 'b', 'c'], learners: [] } }, data: new Uint8Array([seed & 0xff]) };
    await s.saveSnapshot(boot);
    m = { ...m, snapshot: boot };
  }
  const votes = ['a', 'b', 'c', null];
  let restarts = 0;
  let tears = 0;

  for (let step = 0; step < steps; step++) {
    const base = m.snapshot?.meta.index ?? 0;
    const roll = next();
    let lastWasPlainSave = false;
    const prev = m;
    if (roll < 0.6) {
      // Append, sometimes as a new leader's conflicting suffix.
      let term = m.hardState.term;
      let vote = m.hardState.vote;
      if (term === 0 || next() < 0.2) {
        term += 1;
        vote = votes[pick(0, 3)]!;
      }
      const first = pick(Math.max(base, m.hardState.commit) + 1, lastIndex(m) + 1);
      const count = pick(0, 4);
      const es = Array.from({ length: count }, (_, k) => entry(first + k, term, 'e'.repeat(pick(0, 120))));
      const last = count > 0 ? first + count - 1 : lastIndex(m);
      const commit = Math.min(last, m.hardState.commit + pick(0, 3));
      const hardState = { term, vote, commit };
      const batch: SaveBatch = { hardState, entries: es, snapshot: null };
      await s.save(batch);
      const kept = count > 0 ? m.entries.slice(0, first - base - 1) : m.entries;
      m = { hardState, snapshot: m.snapshot, entries: [...kept, ...es] };
      lastWasPlainSave = true;
    } else if (roll < 0.75) {
      if (m.hardState.commit > base) {
        const index = pick(base + 1, m.hardState.commit);
        const snap = snapshot(index, termAt(m, index), `sm@${index}`);
        await s.saveSnapshot(snap);
        m = { ...m, snapshot: snap, entries: m.entries.slice(index - base) };
      }
    } else if (roll < 0.82) {
      // A snapshot from the leader, at or beyond our commit.
      const index = pick(Math.max(base + 1, m.hardState.commit), lastIndex(m) + 5);
      const term = m.hardState.term + pick(0, 1);
      const snap = snapshot(index, Math.max(term, 1), `leader@${index}`);
      const hardState = { term: Math.max(term, 1), vote: term > m.hardState.term ? null : m.hardState.vote, commit: index };
      const es = next() < 0.5 ? [entry(index + 1, hardState.term)] : [];
      await s.save({ hardState, entries: es, snapshot: snap });
      m = { hardState, snapshot: snap, entries: es };
    } else if (roll < 0.86) {
      // Crash right after a snapshot file was renamed into place, before its WAL record.
      await s.close();
      const last = lastIndex(m);
      let snap: Snapshot;
      if (next() < 0.5 && m.hardState.commit > base) {
        const index = pick(base + 1, m.hardState.commit);
        snap = snapshot(index, termAt(m, index), `sm@${index}`);
      } else {
        const index = pick(Math.max(base + 1, m.hardState.commit), last + 5);
        const term = index <= last && next() < 0.5 ? termAt(m, index) : Math.max(1, m.hardState.term + pick(0, 1));
        snap = snapshot(index, term, `leader@${index}`);
      }
      await writeSnapshotFile(dir, snap, false);
      s = await RaftStorage.open(dir, opts);
      // Raft's rule for an installed snapshot: keep the log after it only if the log
      // holds the snapshot's last entry; the hard state rises to cover the snapshot.
      const { index, term } = snap.meta;
      const keep = index <= last && termAt(m, index) === term;
      const raised = term > m.hardState.term;
      m = {
        hardState: { term: raised ? term : m.hardState.term, vote: raised ? null : m.hardState.vote, commit: Math.max(m.hardState.commit, index) },
        snapshot: snap,
        entries: keep ? m.entries.slice(index - base) : [],
      };
      t.same(plain(s.load()), plain(m), `seed ${seed} step ${step}: snapshot file without its record`);
    } else if (roll < 0.94) {
      await s.close();
      s = await RaftStorage.open(dir, opts);
      restarts++;
      t.same(plain(s.load()), plain(m), `seed ${seed} step ${step}: state after restart`);
    }
    if (JSON.stringify(plain(s.load())) !== JSON.stringify(plain(m))) {
      t.fail(`seed ${seed} step ${step}: in-memory state diverged from the model`);
      return;
    }
    if (lastWasPlainSave && next() < 0.1) {
      // Crash in the middle of that save's record: the state before it comes back.
      await s.close();
      const file = join(dir, (await segmentFiles(dir)).at(-1)!);
      const [a, b] = (await recordRanges(file)).at(-1)!;
      await writeFile(file, (await readFile(file)).subarray(0, pick(a, b - 1)));
      s = await RaftStorage.open(dir, opts);
      tears++;
      const first = (await recordRanges(file)).length === 0;
      // A record that opened a segment also carried the hard state forward; either way
      // the recovered state is exactly the one before the torn save.
      t.same(plain(s.load()), plain(prev), `seed ${seed} step ${step}: torn save rolled back${first ? ' (segment head)' : ''}`);
      m = prev;
    }
  }
  const files = await segmentFiles(dir);
  t.ok(files.length <= 12, `seed ${seed}: ${files.length} segments left after ${steps} steps, ${restarts} restarts, ${tears} torn saves`);
  await s.close();
  s = await RaftStorage.open(dir, opts);
  t.same(plain(s.load()), plain(m), `seed ${seed}: final state`);
}


const seeds = process.env.RAFT_STORAGE_SEEDS?.split(',').map(Number) ?? [1, 2, 3, 4, 5, 6, 7, 8];
for (const seed of seeds) {
  t.test(`random workload, seed ${seed}`, (t) => run(t, seed, 300));
}
