// SHA-256 digests of stored ciphertext, computed while the bytes stream past. SHA-256 via
// node:crypto was chosen by measurement (about 1.7 GB/s here against 0.6 GB/s for BLAKE2b).
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const DIGEST_BYTES = 32;

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Constant-time equality of two digests (false for different lengths). */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** A pass-through that hashes and counts the bytes flowing through it. */
export class DigestStream extends Transform {
  readonly #hash: Hash = createHash('sha256');
  #length = 0;
  #digest: Buffer | null = null;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.#length += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#digest = this.#hash.digest();
    callback();
  }

  /** Bytes seen so far. */
  get length(): number {
    return this.#length;
  }

  /** The SHA-256 of everything that passed; only after the writable side has finished. */
  digest(): Buffer {
    if (this.#digest === null) throw new Error('DigestStream: digest() called before the stream finished');
    return this.#digest;
  }
}

/** Digest and length of everything `source` yields (a Readable is an async iterable). */
export async function digestOf(source: AsyncIterable<Uint8Array | string>): Promise<{ digest: Buffer; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    hash.update(bytes);
    length += bytes.byteLength;
  }
  return { digest: hash.digest(), length };
}
