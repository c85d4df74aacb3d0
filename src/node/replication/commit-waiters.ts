// Client writes of one partition waiting until every in-sync replica has them. They
// outlive one epoch when the same node stays primary (a replica removed, a learner
// promoted): the next epoch's driver settles them. They fail when the node stops being
// the primary, or when the in-sync set shrinks below minInsync.
export class WriteUnconfirmedError extends Error {
  constructor(readonly code: 'stale-epoch' | 'not-enough-replicas' | 'unavailable', message: string) {
    super(message);
    this.name = 'WriteUnconfirmedError';
  }
}

interface Waiter {
  readonly seq: number;
  resolve(): void;
  reject(err: Error): void;
}

export class CommitWaiters {
  #waiting: Waiter[] = [];
  #committed = 0;

  get size(): number {
    return this.#waiting.length;
  }

  /** Resolves once `seq` is committed (see settle). */
  wait(seq: number): Promise<void> {
    if (seq <= this.#committed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ seq, resolve, reject });
    });
  }

  /** Everything up to `committed` is on every in-sync replica. */
  settle(committed: number): void {
    if (committed <= this.#committed && this.#waiting.every((w) => w.seq > committed)) return;
    this.#committed = Math.max(this.#committed, committed);
    const still: Waiter[] = [];
    for (const w of this.#waiting) {
      if (w.seq <= this.#committed) w.resolve();
      else still.push(w);
    }
    this.#waiting = still;
  }

  /** Fails every waiting write (their outcome is unknown to the client). */
  rejectAll(err: Error): void {
    const all = this.#waiting;
    this.#waiting = [];
    for (const w of all) w.reject(err);
  }

  /** A new primary term starts from this node's own history: forget what was committed. */
  reset(): void {
    this.#committed = 0;
  }
}
