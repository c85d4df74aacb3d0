// Rebuilds the log from the snapshot file and the WAL operations, in write order.
//
// The snapshot file is authoritative for the log's base (index S, term T): it is written
// before the WAL record that mentions it. Entries <= S only matter for knowing the WAL's
// own term at S. At the end the Raft rule for installing a snapshot (dissertation §5.3,
// InstallSnapshot step 6–7) reconciles the two: if the WAL's log holds (S, T) its suffix
// is kept, otherwise every entry is discarded. That makes a crash between writing the
// snapshot file and its WAL record safe whichever way the record went.

import type { Entry, HardState, Snapshot } from '../types.js';
import type { WalOp } from './ops.js';
import { RaftStorageCorruptError } from './errors.js';

export interface ReplayResult {
  readonly hardState: HardState;
  readonly entries: Entry[];
  /** The WAL lacks a snapshot record for the snapshot file: open must write one. */
  readonly missingSnapshotRecord: boolean;
  /** The WAL's log does not hold the snapshot's last entry: the snapshot replaces it. */
  readonly logReplaced: boolean;
  /** The stored hard state predates the snapshot and was raised to cover it. */
  readonly hardStateRaised: boolean;
}

export class Replayer {
  private readonly base: number;
  private readonly baseTerm: number;
  /** Entries with index > base, contiguous. */
  private entries: Entry[] = [];
  /** The WAL's term at index `base`, when known. */
  private termAtBase: number | null;
  /** The WAL's own last index and its term; null while unknown (a compacted prefix). */
  private walLast: number | null;
  private walLastTerm: number | null;
  /**
   * Set when, past a compacted prefix, an entry does not attach to base + 1. Legitimate if
   * a later reset or truncation drops it (the segment that deleted the prefix may begin
   * with divergent entries a received snapshot replaced), corruption if it survives.
   */
  private gap: { index: number; expected: number } | null = null;
  private hardState: HardState = { term: 0, vote: null, commit: 0 };
  private sawSnapshotRecord: boolean;

  constructor(snapshot: Snapshot | null) {
    this.base = snapshot?.meta.index ?? 0;
    this.baseTerm = snapshot?.meta.term ?? 0;
    // At index 0 (no snapshot, or the bootstrap snapshot) the WAL trivially holds the
    // base and no prefix can have been compacted away.
    this.termAtBase = this.base === 0 ? 0 : null;
    this.walLast = this.base === 0 ? 0 : null;
    this.walLastTerm = this.base === 0 ? 0 : null;
    this.sawSnapshotRecord = snapshot === null;
  }

  /** Applies one op; throws a plain Error naming the broken rule (the caller adds the site). */
  apply(op: WalOp): void {
    switch (op.kind) {
      case 'entry':
        return this.entry(op.entry);
      case 'truncate':
        return this.truncate(op.from);
      case 'snapshot':
        return this.snapshot(op.index, op.term, op.reset);
      case 'hardState':
        this.hardState = op.hardState;
        return;
    }
  }

  private entry(e: Entry): void {
    if (this.walLast !== null && e.index !== this.walLast + 1) {
      throw new Error(`entry ${e.index} does not follow the log's last index ${this.walLast}`);
    }
    if (this.walLastTerm !== null && e.term < this.walLastTerm) {
      throw new Error(`entry ${e.index} has term ${e.term}, below the previous entry's term ${this.walLastTerm}`);
    }
    this.walLast = e.index;
    this.walLastTerm = e.term;
    if (e.index === this.base) this.termAtBase = e.term;
    if (e.index <= this.base || this.gap !== null) return;
    const expected = this.base + this.entries.length + 1;
    if (e.index !== expected) {
      // Only reachable with an unknown prefix (walLast was null), as contiguity holds otherwise.
      this.gap = { index: e.index, expected };
      return;
    }
    this.entries.push(e);
  }

  private termAt(index: number): number | null {
    if (index === this.base) return this.termAtBase;
    if (index < this.base) return null;
    return this.entries[index - this.base - 1]?.term ?? null;
  }

  private truncate(from: number): void {
    if (from < 1 || (this.walLast !== null && from > this.walLast + 1)) {
      throw new Error(`truncation at ${from} is beyond the log's last index ${String(this.walLast)}`);
    }
    this.walLast = from - 1;
    this.walLastTerm = this.termAt(from - 1);
    if (this.gap !== null && from <= this.gap.expected) this.gap = null;
    if (from <= this.base) {
      this.entries = [];
      this.termAtBase = null;
    } else if (this.entries.length > from - this.base - 1) {
      this.entries.length = from - this.base - 1;
    }
  }

  private snapshot(index: number, term: number, reset: boolean): void {
    if (index > this.base) {
      throw new Error(`a snapshot record names index ${index}, newer than the snapshot file (${this.base})`);
    }
    if (index === this.base) {
      if (term !== this.baseTerm) throw new Error(`snapshot record term ${term} differs from the snapshot file's ${this.baseTerm}`);
      this.termAtBase = term;
      this.sawSnapshotRecord = true;
    }
    if (reset) {
      this.entries = [];
      this.gap = null;
      if (index < this.base) this.termAtBase = null;
      this.walLast = index;
      this.walLastTerm = term;
    }
  }

  finish(): ReplayResult {
    if (this.gap !== null) {
      throw new RaftStorageCorruptError(`the log jumps to entry ${this.gap.index} where entry ${this.gap.expected} should follow the snapshot`);
    }
    const logReplaced = this.termAtBase !== this.baseTerm;
    const entries = logReplaced ? [] : this.entries;
    let hs = this.hardState;
    let hardStateRaised = false;
    // The snapshot holds committed state: the durable term and commit cover it even if the
    // hard state written with it was lost in a crash. Raising the term with no vote is safe.
    if (hs.term < this.baseTerm) {
      hs = { term: this.baseTerm, vote: null, commit: hs.commit };
      hardStateRaised = true;
    }
    if (hs.commit < this.base) {
      hs = { ...hs, commit: this.base };
      hardStateRaised = true;
    }
    const lastIndex = this.base + entries.length;
    const lastTerm = entries.at(-1)?.term ?? this.baseTerm;
    if (hs.commit > lastIndex) throw new RaftStorageCorruptError(`commit index ${hs.commit} is beyond the last stored index ${lastIndex}`);
    if (lastTerm > hs.term) throw new RaftStorageCorruptError(`the last entry's term ${lastTerm} is above the current term ${hs.term}`);
    return { hardState: hs, entries, missingSnapshotRecord: !this.sawSnapshotRecord, logReplaced, hardStateRaised };
  }
}
