// The set of already-linearized operations, as bits. Half of every memo-cache key, so
// it renders itself as a compact string: one UTF-16 code unit per 16 operations.

const CHUNK = 4096; // code units per String.fromCharCode call, well under argument limits

export class Bitset {
  private readonly words: Uint16Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0) throw new Error(`bitset size must be a natural number, got ${size}`);
    this.words = new Uint16Array(Math.ceil(size / 16));
  }

  set(i: number): void {
    this.check(i);
    this.words[i >>> 4] |= 1 << (i & 15);
  }

  clear(i: number): void {
    this.check(i);
    this.words[i >>> 4] &= ~(1 << (i & 15));
  }

  has(i: number): boolean {
    this.check(i);
    return (this.words[i >>> 4] & (1 << (i & 15))) !== 0;
  }

  /** Fixed length for a given size, so `key() + anything` never collides across keys. */
  key(): string {
    if (this.words.length <= CHUNK) return String.fromCharCode(...this.words);
    let s = '';
    for (let at = 0; at < this.words.length; at += CHUNK) {
      s += String.fromCharCode(...this.words.subarray(at, at + CHUNK));
    }
    return s;
  }

  /** A copy of the bits, for the cache to keep. */
  snapshot(): Uint16Array {
    return this.words.slice();
  }

  /** Is every bit set in `words` (a snapshot of a bitset of the same size) also set here? */
  includes(words: Uint16Array): boolean {
    if (words.length !== this.words.length) throw new Error('bitsets of different sizes');
    for (let i = 0; i < words.length; i++) {
      if ((words[i] & ~this.words[i]) !== 0) return false;
    }
    return true;
  }

  private check(i: number): void {
    if (!(i >= 0 && i < this.size && Number.isInteger(i))) {
      throw new Error(`bit ${i} is outside a bitset of ${this.size}`);
    }
  }
}
