// Timers that stop() can cut short, so a stopping sentinel does not wait out an interval.
export class Sleeper {
  readonly #wakers = new Set<() => void>();
  #stopped = false;

  /** Waits `ms` (nothing at all once stopped). */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }

  /** Ends every sleep now and every later one at once. */
  stop(): void {
    this.#stopped = true;
    for (const wake of [...this.#wakers]) wake();
  }
}
