// Run once when the store opens, before any write: finishes what a crash interrupted.
// 1. Partitions whose state says 'dropping' (a drop cut short) or 'importing' (a copy that
//    never completed) are dropped: neither may be served.
// 2. Chunk groups that no object record points at are deleted: uploads that were
//    interrupted, and replaced versions whose clean-up never ran. Chunks of a record that
//    does not decode are kept; scrub reports the record.
// It also finds the highest chunk generation in use, so new ones never collide.
import { CorruptObjectError } from './errors.js';
import {
  chunkGroupPrefixOf,
  parseChunkKey,
  partitionOfKey,
  partitionPrefix,
  prefixRange,
  stateKey,
  tagRange,
  TAG_CHUNK,
  TAG_OBJECT,
  TAG_PARTITION,
  type ChunkAddress,
} from './layout.js';
import { clearPartitionData } from './maintenance.js';
import { decodeObject, decodeState } from './records.js';
import type { RecoveryReport, StoreDb } from './types.js';
import { durable } from './durability.js';

export interface Recovery {
  readonly report: RecoveryReport;
  readonly maxGeneration: number;
}

export async function recover(db: StoreDb): Promise<Recovery> {
  const partitionsDropped: number[] = [];
  for await (const [k, v] of db.iterator(tagRange(TAG_PARTITION))) {
    const partition = partitionOfKey(k);
    if (decodeState(partition, v).status !== 'active') partitionsDropped.push(partition);
  }
  for (const partition of partitionsDropped) {
    await clearPartitionData(db, partition);
    await db.del(stateKey(partition), durable(true));
  }

  let orphanChunkGroups = 0;
  let orphanChunks = 0;
  let maxGeneration = 0;
  let group: ChunkAddress | null = null;
  let groupChunks = 0;
  const closeGroup = async (): Promise<void> => {
    if (group === null) return;
    if (!(await isReferenced(db, group))) {
      orphanChunkGroups++;
      orphanChunks += groupChunks;
      await db.clear(prefixRange(chunkGroupPrefixOf(group)));
    }
  };
  for await (const k of db.keys(tagRange(TAG_CHUNK))) {
    const address = parseChunkKey(k);
    maxGeneration = Math.max(maxGeneration, address.generation);
    if (group !== null && sameGroup(group, address)) {
      groupChunks++;
      continue;
    }
    await closeGroup();
    group = { ...address, keyBytes: Buffer.from(address.keyBytes) };
    groupChunks = 1;
  }
  await closeGroup();
  return { report: { orphanChunkGroups, orphanChunks, partitionsDropped }, maxGeneration };
}

function sameGroup(a: ChunkAddress, b: ChunkAddress): boolean {
  return a.partition === b.partition && a.generation === b.generation && a.keyBytes.equals(b.keyBytes);
}

async function isReferenced(db: StoreDb, group: ChunkAddress): Promise<boolean> {
  const key = group.keyBytes.toString('utf8');
  const raw = await db.get(Buffer.concat([partitionPrefix(TAG_OBJECT, group.partition), group.keyBytes]));
  if (raw === undefined) return false;
  try {
    return decodeObject(key, raw).generation === group.generation;
  } catch (err) {
    if (err instanceof CorruptObjectError) return true;
    throw err;
  }
}
