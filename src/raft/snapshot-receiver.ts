// A follower's assembly of a snapshot that arrives in chunks, in order. A chunk at an
// unexpected offset is not an error: the reply tells the leader where to resume.
import { invariant } from './invariant.js';
import type { SnapshotMeta } from './types.js';

export class SnapshotReceiver {
  private index = -1;
  private term = -1;
  private parts: Uint8Array[] = [];
  private received = 0;

  reset(): void {
    this.index = -1;
    this.term = -1;
    this.parts = [];
    this.received = 0;
  }

  /** Returns the next offset wanted and, when the last chunk arrived, the whole data. */
  accept(meta: SnapshotMeta, offset: number, chunk: Uint8Array, total: number, done: boolean): { offset: number; complete?: Uint8Array } {
    if (offset === 0 && (meta.index !== this.index || meta.term !== this.term || this.received > 0)) {
      this.reset();
      this.index = meta.index;
      this.term = meta.term;
    }
    if (meta.index !== this.index || meta.term !== this.term || offset !== this.received) {
      return { offset: meta.index === this.index ? this.received : 0 };
    }
    this.parts.push(chunk.slice());
    this.received += chunk.byteLength;
    if (!done) return { offset: this.received };
    invariant(this.received === total, () => `snapshot ${meta.index} size ${this.received} != announced ${total}`);
    const data = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) {
      data.set(p, at);
      at += p.byteLength;
    }
    return { offset: total, complete: data };
  }
}
