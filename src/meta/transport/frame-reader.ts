// Cuts a TCP byte stream into u32-length-prefixed frames. The length is checked
// against the limit as soon as its four bytes arrive, so an oversized or hostile
// length is refused before anything is buffered for it.
import { TransportDecodeError } from './errors.js';

export class FrameReader {
  /** Largest whole frame (prefix included) accepted; may be raised after a handshake. */
  maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds bytes from the stream; take frames out with next(). */
  push(chunk: Buffer): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
  }

  /**
   * The next whole frame (length prefix included), or null until more bytes arrive.
   * One at a time, so a caller can change the limit between frames (after a handshake).
   */
  next(): Buffer | null {
    if (this.#buffered < 4) return null;
    const size = 4 + this.#peekLength();
    if (size > this.maxFrameBytes) {
      throw new TransportDecodeError(`frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    return this.#buffered < size ? null : this.#take(size);
  }

  #peekLength(): number {
    const head = this.#chunks[0]!;
    if (head.byteLength >= 4) return head.readUInt32BE(0);
    return this.#take(4, false).readUInt32BE(0);
  }

  /** The first n buffered bytes as one Buffer; consumed unless `consume` is false. */
  #take(n: number, consume = true): Buffer {
    const head = this.#chunks[0]!;
    let out: Buffer;
    if (head.byteLength >= n) {
      out = head.subarray(0, n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      for (const c of this.#chunks) {
        const k = Math.min(c.byteLength, n - filled);
        c.copy(out, filled, 0, k);
        filled += k;
        if (filled === n) break;
      }
    }
    if (consume) this.#consume(n);
    return out;
  }

  #consume(n: number): void {
    this.#buffered -= n;
    let whole = 0;
    while (whole < this.#chunks.length && this.#chunks[whole]!.byteLength <= n) {
      n -= this.#chunks[whole]!.byteLength;
      whole++;
    }
    // One splice, not a shift per chunk: a frame can arrive in thousands of pieces.
    if (whole > 0) this.#chunks.splice(0, whole);
    if (n > 0) this.#chunks[0] = this.#chunks[0]!.subarray(n);
  }
}
