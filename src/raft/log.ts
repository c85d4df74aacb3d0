// The in-memory view of one member's Raft log: a snapshot base, the entries after it,
// and the three frontiers the core tracks (stable on disk, committed, applied).
import { decodeConfigEntry, emptyConfig } from './config.js';
import { invariant } from './invariant.js';
import type { Config, Entry, SnapshotMeta } from './types.js';

export class RaftLog {
  /** The last index and term covered by the snapshot; entries start right after it. */
  base: SnapshotMeta;
  private entries: Entry[];
  committed: number;
  applied: number;
  /** Entries up to here are on disk (fsynced). */
  stable: number;
  /** The first index not yet handed to the driver for persistence. */
  unstableFrom: number;

  constructor(base: SnapshotMeta, entries: Entry[], committed: number) {
    this.base = base;
    this.entries = [];
    for (const e of entries) this.pushChecked(e);
    this.stable = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
    this.committed = Math.max(base.index, Math.min(committed, this.lastIndex()));
    this.applied = base.index;
  }

  private pushChecked(e: Entry): void {
    const last = this.lastIndex();
    invariant(e.index === last + 1, () => `log gap: appending ${e.index} after ${last}`);
    invariant(e.term >= this.lastTerm(), () => `term went back at ${e.index}: ${e.term} < ${this.lastTerm()}`);
    this.entries.push(e);
  }

  firstIndex(): number {
    return this.base.index + 1;
  }

  lastIndex(): number {
    return this.base.index + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.term : this.base.term;
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the end. */
  termAt(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    if (index < this.base.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.base.index - 1]!.term;
  }

  entryAt(index: number): Entry | undefined {
    if (index <= this.base.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.base.index - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  /** Entries [from, to], at most `maxBytes` of payload (always at least one entry). */
  slice(from: number, to: number, maxBytes = Infinity): Entry[] {
    invariant(from > this.base.index, () => `slice from ${from} is compacted (base ${this.base.index})`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = from; i <= Math.min(to, this.lastIndex()); i++) {
      const e = this.entries[i - this.base.index - 1]!;
      bytes += e.data.byteLength + 24;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Candidates' logs are compared by (last term, last index), §5.4.1. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The leader's own appends: never truncates. */
  append(entries: Entry[]): void {
    for (const e of entries) this.pushChecked(e);
  }

  /**
   * A follower's appends after prevIndex matched: skip entries it already has, cut the
   * log at the first conflict (never at or below the commit index), append the rest.
   * Returns the index of the first entry that changed, or null when nothing did.
   */
  appendFromLeader(entries: Entry[]): number | null {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      const existing = this.termAt(e.index);
      if (e.index <= this.base.index) continue; // covered by our snapshot: committed, hence identical
      if (existing === e.term) continue;
      if (existing !== undefined) {
        invariant(e.index > this.committed, () => `conflict at committed index ${e.index} (commit ${this.committed})`);
        this.truncateFrom(e.index);
      }
      for (const rest of entries.slice(k)) this.pushChecked(rest);
      return e.index;
    }
    return null;
  }

  private truncateFrom(index: number): void {
    invariant(index > this.base.index, 'truncating into the snapshot');
    this.entries.length = index - this.base.index - 1;
    this.stable = Math.min(this.stable, index - 1);
    this.unstableFrom = Math.min(this.unstableFrom, index);
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    invariant(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Entries to persist next; marks them handed out. */
  takeUnstable(): Entry[] {
    if (this.unstableFrom > this.lastIndex()) return [];
    const out = this.slice(Math.max(this.unstableFrom, this.firstIndex()), this.lastIndex());
    this.unstableFrom = this.lastIndex() + 1;
    return out;
  }

  /** The driver synced entries up to (index, term); ignored if they were since replaced. */
  stableTo(index: number, term: number): void {
    if (this.termAt(index) === term && index > this.stable) this.stable = index;
  }

  /** Committed entries not yet handed out for applying, after `after`. */
  committedAfter(after: number): Entry[] {
    const from = Math.max(after, this.base.index) + 1;
    if (from > this.committed) return [];
    return this.slice(from, this.committed);
  }

  /** Drop entries up to `index` (the application's own snapshot covers them). */
  compact(index: number, term: number, config: Config): void {
    invariant(index <= this.applied, () => `compacting ${index} beyond applied ${this.applied}`);
    if (index <= this.base.index) return;
    invariant(this.termAt(index) === term, 'compaction term mismatch');
    this.entries = this.entries.slice(index - this.base.index);
    this.base = { index, term, config };
  }

  /** A snapshot from the leader replaces the whole log. */
  restore(meta: SnapshotMeta): void {
    invariant(meta.index > this.committed, () => `restoring snapshot ${meta.index} at or below commit ${this.committed}`);
    this.entries = [];
    this.base = meta;
    this.committed = meta.index;
    this.stable = meta.index;
    this.unstableFrom = meta.index + 1;
  }

  /** The configuration in force at the end of the log (config entries apply when appended). */
  lastConfig(): Config {
    return this.configAt(this.lastIndex());
  }

  configAt(index: number): Config {
    for (let i = Math.min(index, this.lastIndex()); i > this.base.index; i--) {
      const e = this.entries[i - this.base.index - 1]!;
      if (e.type === 'config') return decodeConfigEntry(e.data).config;
    }
    return this.base.config ?? emptyConfig;
  }

  /** Last index of `term` at or below `atMost`, for the leader's fast backtracking. */
  lastIndexOfTerm(term: number, atMost: number): number | undefined {
    for (let i = Math.min(atMost, this.lastIndex()); i >= this.base.index; i--) {
      const t = this.termAt(i)!;
      if (t === term) return i;
      if (t < term) return undefined;
    }
    return undefined;
  }

  /** First index of the term found at `index`, for the follower's rejection hint. */
  firstIndexOfTermAt(index: number): number {
    const term = this.termAt(index);
    invariant(term !== undefined, 'hint for a missing index');
    let i = index;
    while (i - 1 > this.base.index && this.termAt(i - 1) === term) i--;
    return i;
  }
}
