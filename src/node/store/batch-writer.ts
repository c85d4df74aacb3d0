// Collects puts and deletes and writes them as LevelDB batches of bounded size, so a large
// value costs a handful of (synced) batches instead of one write per chunk, and memory
// never holds more than one batch.
import type { StoreDb } from './types.js';
import { durable } from './durability.js';

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface BatchLimits {
  readonly sync: boolean;
  readonly maxBytes: number;
  readonly maxOps?: number;
}

export class BatchWriter {
  readonly #db: StoreDb;
  readonly #limits: BatchLimits;
  #ops: BatchOp[] = [];
  #bytes = 0;
  #flushed = 0;

  constructor(db: StoreDb, limits: BatchLimits) {
    this.#db = db;
    this.#limits = limits;
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    this.#ops.push({ type: 'put', key, value });
    this.#bytes += key.length + value.length;
    await this.#maybeFlush();
  }

  async del(key: Buffer): Promise<void> {
    this.#ops.push({ type: 'del', key });
    this.#bytes += key.length;
    await this.#maybeFlush();
  }

  /** Writes what is pending (one batch, synced when configured). */
  async flush(): Promise<void> {
    if (this.#ops.length === 0) return;
    const ops = this.#ops;
    this.#ops = [];
    this.#bytes = 0;
    await this.#db.batch(ops, durable(this.#limits.sync));
    this.#flushed += ops.length;
  }

  /** Drops what is pending without writing it. */
  discard(): void {
    this.#ops = [];
    this.#bytes = 0;
  }

  /** Operations already written to the database. */
  get flushedOps(): number {
    return this.#flushed;
  }

  async #maybeFlush(): Promise<void> {
    if (this.#bytes >= this.#limits.maxBytes || this.#ops.length >= (this.#limits.maxOps ?? 10_000)) await this.flush();
  }
}
