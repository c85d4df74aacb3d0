// Ordered listing of one partition: a range scan of its object records, in key-byte order
// (UTF-8 byte order is code point order). A prefix is a byte range: UTF-8 never contains
// 0xff, so every key starting with the prefix sorts below prefixEnd(prefix).
import { validateKey, validatePrefix } from '../../common/keys.js';
import { StoreArgumentError } from './errors.js';
import { keyOfObjectKey, objectKey, partitionPrefix, prefixEnd, TAG_OBJECT } from './layout.js';
import { decodeObject } from './records.js';
import type { ListOptions, ListPage, ObjectMeta, StoreDb } from './types.js';

export const MAX_LIST_LIMIT = 10_000;
const DEFAULT_LIST_LIMIT = 1_000;

export async function listObjects(db: StoreDb, partition: number, options: ListOptions): Promise<ListPage> {
  const prefix = options.prefix ?? '';
  validatePrefix(prefix);
  if (options.after !== undefined) validateKey(options.after);
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new StoreArgumentError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${String(limit)}`);
  }
  const lower = Buffer.concat([partitionPrefix(TAG_OBJECT, partition), Buffer.from(prefix, 'utf8')]);
  const upper = prefixEnd(lower);
  if (upper === null) throw new Error('object range without an upper bound');
  const afterKey = options.after !== undefined ? objectKey(partition, options.after) : null;
  if (afterKey !== null && afterKey.compare(upper) >= 0) return { items: [], next: null };
  const bounds = afterKey !== null && afterKey.compare(lower) >= 0 ? { gt: afterKey, lt: upper } : { gte: lower, lt: upper };

  const items: ObjectMeta[] = [];
  let next: string | null = null;
  for await (const [k, v] of db.iterator(bounds)) {
    const { meta } = decodeObject(keyOfObjectKey(k), v);
    if (meta.deleted && options.includeTombstones !== true) continue;
    if (items.length === limit) {
      // One more item exists: the page is full and the caller should ask again.
      next = items[items.length - 1]?.key ?? null;
      break;
    }
    items.push(meta);
  }
  return { items, next };
}
