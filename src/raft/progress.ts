// The leader's view of one follower: how far it matches, what to send next, and how
// many appends are in flight (flow control bounds messages and bytes per follower).
import { invariant } from './invariant.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state one append is outstanding at a time; reset by any reply. */
  probeSent = false;
  /** Last index of each in-flight append, oldest first (replicate state). */
  private inflight: { last: number; bytes: number }[] = [];
  private inflightBytes = 0;
  /** Heard from within the current election timeout (CheckQuorum). */
  recentActive = true;
  snapshotIndex = 0;
  snapshotOffset = 0;
  snapshotIdleTicks = 0;
  /** Leader ticks since the match index last moved: appends in flight may have been lost. */
  stallTicks = 0;

  constructor(next: number) {
    this.next = next;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') this.next = Math.max(this.match + 1, this.snapshotIndex + 1);
    else this.next = this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.clearInflight();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.clearInflight();
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.snapshotIndex = index;
    this.snapshotOffset = 0;
    this.snapshotIdleTicks = 0;
    this.clearInflight();
  }

  /** A success reply: returns false when it was stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      this.stallTicks = 0;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.freeTo(index);
    return updated;
  }

  isPaused(maxInflightMsgs: number, maxInflightBytes: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= maxInflightMsgs || this.inflightBytes >= maxInflightBytes;
      case 'snapshot':
        return true;
    }
  }

  /** Record an append just sent, covering entries up to `last`. */
  sent(last: number, bytes: number): void {
    if (this.state === 'replicate') {
      invariant(last >= this.next - 1, 'replicate progress went backwards');
      this.next = last + 1;
      this.inflight.push({ last, bytes });
      this.inflightBytes += bytes;
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  private freeTo(index: number): void {
    while (this.inflight.length > 0 && this.inflight[0]!.last <= index) {
      this.inflightBytes -= this.inflight.shift()!.bytes;
    }
  }

  private clearInflight(): void {
    this.inflight = [];
    this.inflightBytes = 0;
  }

  inflightCount(): number {
    return this.inflight.length;
  }
}
