// One FIFO lock per partition: check-and-commit, state changes, drops and imports of a
// partition run one at a time, so a precondition read and the batch that depends on it
// cannot interleave with another writer.

export class KeyedMutex<K> {
  readonly #tails = new Map<K, Promise<void>>();

  async run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // Forget the key once nobody queued behind us, so the map does not grow forever.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
