// A token bucket for the repair bandwidth limit (bytes per second per node), with the
// clock injected. Taking more than is available runs into debt, and the caller waits
// until the debt is paid back: a large chunk is never refused, only delayed.
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  /** `rate` bytes per second; `burst` bytes may go at once after a quiet period. */
  constructor(rate: number, burst: number, now: number) {
    if (!(rate > 0) || !(burst > 0)) throw new Error('rate and burst must be positive');
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes `n` bytes; returns how many ms the caller must wait before going on. */
  take(n: number, now: number): number {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
      this.#at = now;
    }
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#rate);
  }
}

/** Passes pieces through, pausing so that the shared bucket's rate is kept. */
export async function* throttled<T extends { byteLength: number }>(source: AsyncIterable<T>, bucket: TokenBucket | null, now: () => number = Date.now): AsyncGenerator<T> {
  for await (const piece of source) {
    if (bucket !== null) {
      const wait = bucket.take(piece.byteLength, now());
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    yield piece;
  }
}
