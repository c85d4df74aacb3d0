// Cuts a value arriving in pieces of any size into fixed-size chunk records, hashing as it
// goes. Memory holds one chunk plus the pending batch. Whether the value ends up inline
// is only known at the end, so the first chunk is held back until it is full. The chunk
// buffer grows by doubling, so a small value never pays for a whole chunk's allocation.
import { createHash, type Hash } from 'node:crypto';
import type { BatchWriter } from './batch-writer.js';
import { chunkKey } from './layout.js';

const INITIAL_BUFFER = 16 * 1024;

export interface StagedValue {
  readonly size: number;
  /** SHA-256 hex of every byte written. */
  readonly digest: string;
  /** The whole value when it stays inline; null when it went to chunks. */
  readonly inline: Buffer | null;
  /** Generation of the chunk records (meaningful only when inline is null). */
  readonly generation: number;
  readonly chunkSize: number;
  readonly chunks: number;
}

export interface ValueLayout {
  readonly inlineLimit: number;
  readonly chunkSize: number;
}

export class ValueWriter {
  readonly #partition: number;
  readonly #key: string;
  readonly #generation: number;
  readonly #sink: BatchWriter;
  readonly #layout: ValueLayout;
  readonly #hash: Hash = createHash('sha256');
  #chunk: Buffer;
  #fill = 0;
  #chunks = 0;
  #size = 0;
  #finished = false;

  constructor(partition: number, key: string, generation: number, sink: BatchWriter, layout: ValueLayout) {
    if (!(layout.chunkSize >= layout.inlineLimit && layout.chunkSize > 0)) throw new Error('chunk size must be positive and at least the inline limit');
    this.#partition = partition;
    this.#key = key;
    this.#generation = generation;
    this.#sink = sink;
    this.#layout = layout;
    this.#chunk = Buffer.allocUnsafe(Math.min(layout.chunkSize, INITIAL_BUFFER));
  }

  get size(): number {
    return this.#size;
  }

  async write(piece: Uint8Array): Promise<void> {
    if (this.#finished) throw new Error('ValueWriter: write after finish');
    if (!(piece instanceof Uint8Array)) throw new TypeError('value pieces must be Uint8Array or Buffer');
    this.#hash.update(piece);
    this.#size += piece.byteLength;
    let offset = 0;
    while (offset < piece.byteLength) {
      // A full chunk is written only once more bytes arrive: the last one may stay inline.
      if (this.#fill === this.#layout.chunkSize) await this.#pushChunk();
      const n = Math.min(piece.byteLength - offset, this.#layout.chunkSize - this.#fill);
      this.#reserve(this.#fill + n);
      this.#chunk.set(piece.subarray(offset, offset + n), this.#fill);
      this.#fill += n;
      offset += n;
    }
  }

  /** Hands the last chunk to the sink (the caller flushes it) and describes the value. */
  async finish(): Promise<StagedValue> {
    if (this.#finished) throw new Error('ValueWriter: finish called twice');
    this.#finished = true;
    const digest = this.#hash.digest('hex');
    if (this.#chunks === 0 && this.#fill <= this.#layout.inlineLimit) {
      const inline = Buffer.from(this.#chunk.subarray(0, this.#fill));
      return { size: this.#size, digest, inline, generation: this.#generation, chunkSize: 0, chunks: 0 };
    }
    if (this.#fill > 0) await this.#pushChunk();
    if (this.#chunks !== Math.ceil(this.#size / this.#layout.chunkSize)) throw new Error('ValueWriter: chunk count does not match the size');
    return { size: this.#size, digest, inline: null, generation: this.#generation, chunkSize: this.#layout.chunkSize, chunks: this.#chunks };
  }

  async #pushChunk(): Promise<void> {
    const bytes = this.#fill === this.#chunk.length ? this.#chunk : Buffer.from(this.#chunk.subarray(0, this.#fill));
    await this.#sink.put(chunkKey(this.#partition, this.#key, this.#generation, this.#chunks), bytes);
    this.#chunks++;
    // The sink keeps the buffer until its batch is written: never reuse it.
    this.#chunk = Buffer.allocUnsafe(this.#layout.chunkSize);
    this.#fill = 0;
  }

  #reserve(bytes: number): void {
    if (bytes <= this.#chunk.length) return;
    let size = this.#chunk.length;
    while (size < bytes) size *= 2;
    const grown = Buffer.allocUnsafe(Math.min(size, this.#layout.chunkSize));
    this.#chunk.copy(grown, 0, 0, this.#fill);
    this.#chunk = grown;
  }
}
