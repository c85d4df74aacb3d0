// The in-memory mirror of what is stored, and the gatekeeper of its invariants: every
// batch is checked in full before anything changes, then turned into the WAL ops that
// reproduce it on replay.

import type { Entry, EntryType, HardState, Snapshot } from '../types.js';
import { RaftStorageInvariantError } from './errors.js';
import type { WalOp } from './ops.js';
import { checkSnapshotMeta } from './snapshot-file.js';

export interface SaveBatch {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

/** What a change needs on disk: the snapshot file to write first (if any), then the ops. */
export interface WritePlan {
  readonly snapshotFile: Snapshot | null;
  readonly ops: WalOp[];
}

const ENTRY_TYPES: ReadonlySet<EntryType> = new Set(['noop', 'command', 'config']);

function fail(message: string): never {
  throw new RaftStorageInvariantError(message);
}

function checkCount(v: unknown, what: string, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${what} must be an integer >= ${min}, got ${String(v)}`);
}

function checkEntry(e: Entry): void {
  if (typeof e !== 'object' || e === null) fail('an entry is not an object');
  checkCount(e.index, 'entry index', 1);
  checkCount(e.term, `term of entry ${e.index}`, 1);
  if (!ENTRY_TYPES.has(e.type)) fail(`entry ${e.index} has unknown type ${String(e.type)}`);
  if (!(e.data instanceof Uint8Array)) fail(`entry ${e.index} data must be a Uint8Array`);
}

function checkHardState(hs: HardState): void {
  if (typeof hs !== 'object' || hs === null) fail('hard state is not an object');
  checkCount(hs.term, 'hard state term', 0);
  checkCount(hs.commit, 'hard state commit', 0);
  if (hs.vote !== null && (typeof hs.vote !== 'string' || hs.vote.length === 0)) fail('hard state vote must be a non-empty string or null');
}

function checkSnapshot(s: Snapshot): void {
  try {
    checkSnapshotMeta(s?.meta);
  } catch (err) {
    fail((err as Error).message);
  }
  if (!(s.data instanceof Uint8Array)) fail('snapshot data must be a Uint8Array');
}

export class LogState {
  constructor(
    private snapshot: Snapshot | null,
    private readonly entries: Entry[],
    private hardState: HardState,
  ) {}

  get snapIndex(): number {
    return this.snapshot?.meta.index ?? 0;
  }

  get snapTerm(): number {
    return this.snapshot?.meta.term ?? 0;
  }

  get lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  termAt(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex) return undefined;
    return this.entries[index - this.snapIndex - 1]?.term;
  }

  view(): { hardState: HardState; snapshot: Snapshot | null; entries: Entry[] } {
    return { hardState: { ...this.hardState }, snapshot: this.snapshot, entries: this.entries.slice() };
  }

  /** Validates a Ready's persistence batch and applies it to memory. Throws before changing anything. */
  applySave(batch: SaveBatch): WritePlan {
    if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.entries)) fail('a batch needs {hardState, entries[], snapshot}');
    const snap = batch.snapshot;
    let base = this.snapIndex;
    let baseTerm = this.snapTerm;
    let last = this.lastIndex;
    if (snap !== null) {
      checkSnapshot(snap);
      if (snap.meta.index <= base) fail(`received snapshot at ${snap.meta.index} is not newer than the stored one at ${base}`);
      base = snap.meta.index;
      baseTerm = snap.meta.term;
      last = base;
    }
    const termBefore = (i: number): number | undefined => (i === base ? baseTerm : snap !== null ? undefined : this.termAt(i));

    const es = batch.entries;
    const first = es[0]?.index ?? 0;
    if (es.length > 0) {
      es.forEach(checkEntry);
      for (let i = 1; i < es.length; i++) {
        if (es[i]!.index !== first + i) fail(`entries are not contiguous: ${es[i - 1]!.index} then ${es[i]!.index}`);
        if (es[i]!.term < es[i - 1]!.term) fail(`entry ${es[i]!.index} has term ${es[i]!.term}, below ${es[i - 1]!.term} before it`);
      }
      if (first <= base) fail(`entries from ${first} would overwrite the snapshot, which covers up to ${base}`);
      if (first > last + 1) fail(`entries from ${first} leave a gap after the last stored index ${last}`);
      if (first <= last && first <= this.hardState.commit) fail(`entries from ${first} would truncate committed entries (commit ${this.hardState.commit})`);
      const prevTerm = termBefore(first - 1)!;
      if (es[0]!.term < prevTerm) fail(`entry ${first} has term ${es[0]!.term}, below the stored term ${prevTerm} before it`);
      last = es.at(-1)!.index;
    }

    const cur = this.hardState;
    const hs = batch.hardState ?? cur;
    if (batch.hardState !== null) {
      checkHardState(hs);
      if (hs.term < cur.term) fail(`term would go back from ${cur.term} to ${hs.term}`);
      if (hs.term === cur.term && cur.vote !== null && hs.vote !== cur.vote) fail(`vote in term ${hs.term} would change from ${cur.vote} to ${String(hs.vote)}`);
      if (hs.commit < cur.commit) fail(`commit would go back from ${cur.commit} to ${hs.commit}`);
    }
    const lastTerm = es.at(-1)?.term ?? (snap !== null ? baseTerm : this.termAt(last)!);
    if (hs.commit > last) fail(`commit ${hs.commit} would be beyond the last index ${last}`);
    if (lastTerm > hs.term) fail(`the log's last term ${lastTerm} would be above the current term ${hs.term}`);

    // All checks passed: apply.
    const ops: WalOp[] = [];
    if (snap !== null) {
      this.snapshot = snap;
      this.entries.length = 0;
      ops.push({ kind: 'snapshot', index: snap.meta.index, term: snap.meta.term, reset: true });
    }
    if (es.length > 0) {
      if (first <= this.lastIndex) {
        ops.push({ kind: 'truncate', from: first });
        this.entries.length = first - this.snapIndex - 1;
      }
      for (const e of es) {
        this.entries.push(e);
        ops.push({ kind: 'entry', entry: e });
      }
    }
    if (batch.hardState !== null) {
      this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
      ops.push({ kind: 'hardState', hardState: this.hardState });
    }
    return { snapshotFile: snap, ops };
  }

  /** The application's compaction: the snapshot must cover a committed prefix of the log. */
  applyCompaction(snap: Snapshot): WritePlan {
    checkSnapshot(snap);
    const { index, term } = snap.meta;
    // A first snapshot may sit at index 0: the bootstrap's initial state.
    if (this.snapshot !== null ? index <= this.snapIndex : index < 0) fail(`snapshot at ${index} is not newer than the stored one at ${this.snapIndex}`);
    if (index > this.lastIndex) fail(`snapshot at ${index} is beyond the last stored index ${this.lastIndex}`);
    if (index > this.hardState.commit) fail(`snapshot at ${index} covers uncommitted entries (commit ${this.hardState.commit})`);
    if (this.termAt(index) !== term) fail(`snapshot term ${term} differs from the stored entry's term ${String(this.termAt(index))} at ${index}`);
    this.entries.splice(0, index - this.snapIndex);
    this.snapshot = snap;
    return { snapshotFile: snap, ops: [{ kind: 'snapshot', index, term, reset: false }] };
  }
}
