// The safety properties of Raft (figure 3 of the paper) checked incrementally as the
// simulation runs, plus read freshness and exactly-once application.
import type { Entry } from '../types.js';

export interface Violation {
  readonly property: string;
  readonly detail: string;
}

function entryKey(e: Entry): string {
  return `${e.type}:${Buffer.from(e.data).toString('base64')}`;
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  private leaderOfTerm = new Map<number, string>();
  /** (index, term) -> content and previous term: enough, inductively, for Log Matching. */
  private entries = new Map<string, string>();
  private committedTerm: number[] = [];
  private committedKey: string[] = [];
  maxCommitted = 0;
  /** Per key, the acknowledged writes: (log index, ack time). */
  private acks = new Map<string, { index: number; at: number }[]>();

  private fail(property: string, detail: string): void {
    this.violations.push({ property, detail });
  }

  /** Election Safety: at most one leader per term. */
  leader(term: number, id: string): void {
    const known = this.leaderOfTerm.get(term);
    if (known === undefined) this.leaderOfTerm.set(term, id);
    else if (known !== id) this.fail('election-safety', `term ${term} has two leaders: ${known} and ${id}`);
  }

  /** Log Matching: one (index, term) never names two different entries or predecessors. */
  appended(member: string, e: Entry, prevTerm: number | undefined): void {
    const k = `${e.index}:${e.term}`;
    const v = `${entryKey(e)}|${prevTerm ?? '?'}`;
    const known = this.entries.get(k);
    if (known === undefined) this.entries.set(k, v);
    else if (known !== v && !(known.endsWith('|?') || v.endsWith('|?'))) {
      this.fail('log-matching', `${member}: entry ${k} differs from one seen before`);
    }
  }

  /** State Machine Safety: every member commits and applies the same entry at an index. */
  committed(member: string, e: Entry): void {
    const key = entryKey(e);
    const t = this.committedTerm[e.index];
    if (t === undefined) {
      this.committedTerm[e.index] = e.term;
      this.committedKey[e.index] = key;
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
    } else if (t !== e.term || this.committedKey[e.index] !== key) {
      this.fail('state-machine-safety', `${member} applied a different entry at ${e.index} (term ${e.term} vs ${t})`);
    }
  }

  /** Leader Completeness: a new leader holds every committed entry it has not compacted. */
  newLeader(member: string, base: number, termAt: (i: number) => number | undefined): void {
    for (let i = base + 1; i <= this.maxCommitted; i++) {
      const want = this.committedTerm[i];
      if (want !== undefined && termAt(i) !== want) {
        this.fail('leader-completeness', `${member} leads without committed entry ${i} (term ${want})`);
        return;
      }
    }
  }

  writeAcked(key: string, index: number, at: number): void {
    let list = this.acks.get(key);
    if (!list) this.acks.set(key, (list = []));
    list.push({ index, at });
  }

  /** A read returns a value no older than the last write acknowledged before it began. */
  read(member: string, key: string, invokedAt: number, seenIndex: number): void {
    let newest = 0;
    for (const a of this.acks.get(key) ?? []) if (a.at < invokedAt && a.index > newest) newest = a.index;
    if (seenIndex < newest) {
      this.fail('stale-read', `${member} read ${key} at write ${seenIndex}, but write ${newest} was acknowledged before the read began`);
    }
  }

  appliedTwice(member: string, op: string): void {
    this.fail('exactly-once', `${member} applied ${op} twice`);
  }

  invariant(member: string, err: Error): void {
    this.fail('invariant', `${member}: ${err.message}`);
  }
}
