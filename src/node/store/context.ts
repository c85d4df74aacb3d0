// What the store's parts share: the database, the settings, the partition locks and states.
import type { KeyedMutex } from './keyed-mutex.js';
import type { PartitionStates } from './partition-states.js';
import type { StoreDb } from './types.js';
import type { ValueLayout } from './value-writer.js';

export interface StoreContext {
  readonly db: StoreDb;
  readonly sync: boolean;
  readonly layout: ValueLayout;
  readonly batchBytes: number;
  readonly opLogRetention: number;
  readonly tombstoneRetentionMs: number;
  readonly locks: KeyedMutex<number>;
  readonly states: PartitionStates;
  readonly now: () => number;
  /** A chunk generation never used before in this database. */
  nextGeneration(): number;
}
