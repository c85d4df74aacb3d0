// A per-peer FIFO of messages bounded in bytes. When full, the oldest messages go
// first: Raft resends what matters, and newer messages supersede older ones.
import type { Message } from '../../raft/types.js';

interface Queued {
  readonly message: Message;
  readonly bytes: number;
}

export class SendQueue {
  // Consumed slots are cleared at once so dropped payloads can be collected.
  #items: (Queued | undefined)[] = [];
  #head = 0;
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a message of `bytes` encoded size; returns how many messages were dropped to bound the queue. */
  push(message: Message, bytes: number): number {
    if (bytes > this.maxBytes) return 1;
    let dropped = 0;
    while (this.#bytes + bytes > this.maxBytes) {
      this.#bytes -= this.#items[this.#head]!.bytes;
      this.#items[this.#head++] = undefined;
      dropped++;
    }
    this.#items.push({ message, bytes });
    this.#bytes += bytes;
    this.#compact();
    return dropped;
  }

  /** Removes the oldest messages that fit in `budget` bytes, and always at least one. */
  take(budget: number): Message[] {
    const out: Message[] = [];
    let used = 0;
    while (this.length > 0) {
      const next = this.#items[this.#head]!;
      if (out.length > 0 && used + next.bytes > budget) break;
      out.push(next.message);
      used += next.bytes;
      this.#bytes -= next.bytes;
      this.#items[this.#head++] = undefined;
    }
    this.#compact();
    return out;
  }

  /** Empties the queue; returns how many messages were in it. */
  clear(): number {
    const n = this.length;
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return n;
  }

  // Reclaims the consumed prefix once it dominates, keeping push and take amortized O(1).
  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
