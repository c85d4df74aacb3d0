// ReadIndex (dissertation §6.4): a read is served at the commit index the leader held
// when it was asked, once a quorum has confirmed — by answering a heartbeat sent after
// the request — that this leader was still the leader.
import type { ReadState } from './types.js';

interface PendingRead {
  readonly ctx: number;
  readonly index: number;
  /** Heartbeat sequence that must be acknowledged by a quorum. */
  readonly seq: number;
}

export class ReadIndexQueue {
  private pending: PendingRead[] = [];
  /** Requests that arrived before this leader committed an entry of its own term. */
  private waitingForCommit: number[] = [];
  private seq = 0;
  /** Highest heartbeat sequence each peer has acknowledged. */
  private acked = new Map<string, number>();

  waitForCommit(ctx: number): void {
    this.waitingForCommit.push(ctx);
  }

  takeWaiting(): number[] {
    const out = this.waitingForCommit;
    this.waitingForCommit = [];
    return out;
  }

  /** Registers a read at `index`; returns the heartbeat sequence to broadcast. */
  add(ctx: number, index: number): number {
    this.seq += 1;
    this.pending.push({ ctx, index, seq: this.seq });
    return this.seq;
  }

  currentSeq(): number {
    return this.seq;
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * A peer acknowledged heartbeat `seq`. Returns the reads now confirmed by a quorum
   * (the leader counts itself), in request order.
   */
  ack(peer: string, seq: number, voters: readonly string[], self: string, quorum: number): ReadState[] {
    if (seq <= 0) return [];
    if (seq > (this.acked.get(peer) ?? 0)) this.acked.set(peer, seq);
    const done: ReadState[] = [];
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      let votes = 0;
      for (const v of voters) if (v === self || (this.acked.get(v) ?? 0) >= head.seq) votes++;
      if (votes < quorum) break;
      done.push({ ctx: head.ctx, index: head.index });
      this.pending.shift();
    }
    return done;
  }

  /** All reads confirmed at once (a single-voter group is its own quorum). */
  drainAll(): ReadState[] {
    const out = this.pending.map((p) => ({ ctx: p.ctx, index: p.index }));
    this.pending = [];
    return out;
  }

  /** Leadership lost: every pending read fails; returns their contexts. */
  reset(): number[] {
    const failed = [...this.waitingForCommit, ...this.pending.map((p) => p.ctx)];
    this.pending = [];
    this.waitingForCommit = [];
    this.acked.clear();
    return failed;
  }
}
