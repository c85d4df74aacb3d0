// Reads exact byte counts from a stream of pieces (an HTTP body), without ever holding
// more than one piece beyond what was asked for. The framed codecs sit on top of it.

export type WireErrorCode = 'malformed' | 'truncated' | 'too-large';

/** A body that breaks the wire format; the message says where. */
export class WireError extends Error {
  constructor(readonly code: WireErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
  }
}

const EMPTY = Buffer.alloc(0);

export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Buffer = EMPTY;
  #ended = false;
  /** Bytes handed out so far (for progress and throttling). */
  consumed = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Fills the buffer with at least one more piece; false at the end of the source. */
  async #more(): Promise<boolean> {
    if (this.#ended) return false;
    for (;;) {
      const { value, done } = await this.#it.next();
      if (done === true) {
        this.#ended = true;
        return false;
      }
      if (value.byteLength === 0) continue;
      const piece = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.#buf = this.#buf.length === 0 ? piece : Buffer.concat([this.#buf, piece]);
      return true;
    }
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return this.#buf.length === 0 && !(await this.#more());
  }

  /** Exactly `n` bytes; null when the source ends cleanly before the first of them. */
  async readExact(n: number, what: string): Promise<Buffer | null> {
    while (this.#buf.length < n) {
      if (!(await this.#more())) {
        if (this.#buf.length === 0) return null;
        throw new WireError('truncated', `the body ends inside ${what} (${this.#buf.length} of ${n} bytes)`);
      }
    }
    const out = Buffer.from(this.#buf.subarray(0, n));
    this.#buf = this.#buf.subarray(n);
    this.consumed += n;
    return out;
  }

  /** Exactly `n` bytes as they arrive, in pieces; throws 'truncated' if the source ends first. */
  async *stream(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#more())) {
        throw new WireError('truncated', `the body ends inside ${what} (${n - left} of ${n} bytes)`);
      }
      const take = Math.min(left, this.#buf.length);
      const piece = this.#buf.subarray(0, take);
      this.#buf = this.#buf.subarray(take);
      left -= take;
      this.consumed += take;
      yield piece;
    }
  }

  /** Releases the source (an abandoned body). */
  async close(): Promise<void> {
    this.#buf = EMPTY;
    if (!this.#ended) {
      this.#ended = true;
      await this.#it.return?.();
    }
  }
}
