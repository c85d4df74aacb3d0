// LevelDB's `sync` write option (fsync before the write returns). The abstract-level
// interface does not declare it; classic-level honours it and memory-level ignores it.
import type { AbstractBatchOptions, AbstractDelOptions, AbstractPutOptions } from 'abstract-level';

export type WriteOpts = AbstractBatchOptions<Buffer, Buffer> & AbstractPutOptions<Buffer, Buffer> & AbstractDelOptions<Buffer>;

export function durable(sync: boolean): WriteOpts {
  return { sync } as WriteOpts;
}
