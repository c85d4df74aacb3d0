// Parsing the parts of object requests: partition, key, epoch header, preconditions,
// value metadata, byte ranges. Bad input is a 400 that names the rule.
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import { KeyError, validateKey, validatePrefix } from '../../common/keys.js';
import { partitionOf } from '../../meta/placement.js';
import type { NodeContext } from '../context.js';
import type { ByteRange } from '../store/index.js';
import { DetailedApiError, staleEpoch, unavailable } from './errors.js';

export interface NodeLimits {
  /** The largest value a PUT may carry. */
  readonly maxObjectBytes: number;
  /** Values up to this size are read whole and verified before the answer starts. */
  readonly verifyBeforeSend: number;
}

export const DEFAULT_LIMITS: NodeLimits = { maxObjectBytes: 64 * 1024 ** 3, verifyBeforeSend: 1024 * 1024 };

/** The partition number of the path, which must exist in the cluster. */
export function parsePartition(ctx: NodeContext, raw: string): number {
  const settings = ctx.map.current?.settings;
  if (settings === null || settings === undefined) throw unavailable('no-map', 'the node has not loaded the partition map yet');
  const p = Number(raw);
  if (!Number.isSafeInteger(p) || p < 0 || p >= settings.partitions || String(p) !== raw) {
    throw new ApiError(404, 'no-such-partition', `partition ${raw} does not exist (the cluster has ${settings.partitions})`);
  }
  return p;
}

/** The object key of the path (percent-decoded), valid and of this partition. */
export function parseKey(ctx: NodeContext, partition: number, raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new DetailedApiError(400, 'invalid-key', 'the key in the path is not valid percent-encoded UTF-8', { rule: 'utf8' });
  }
  validateKey(key);
  const partitions = ctx.map.current!.settings!.partitions;
  const home = partitionOf(key, partitions);
  if (home !== partition) {
    throw new DetailedApiError(400, 'wrong-partition', `key ${JSON.stringify(key)} belongs to partition ${home}, not ${partition}`, { partition: home });
  }
  return key;
}

export function checkPrefix(prefix: string): void {
  try {
    validatePrefix(prefix);
  } catch (err) {
    if (err instanceof KeyError) throw new DetailedApiError(400, 'invalid-prefix', err.message.replace(/^key/, 'prefix'), { rule: err.rule });
    throw err;
  }
}

/** X-Opera-Epoch, when sent, must be the partition's current epoch. */
export function checkEpochHeader(ctx: NodeContext, koa: Context, partition: number): void {
  const raw = koa.get('x-opera-epoch');
  if (raw === '') return;
  const epoch = Number(raw);
  if (!/^\d{1,15}$/.test(raw)) throw new ApiError(400, 'bad-epoch', 'X-Opera-Epoch must be a non-negative integer');
  const record = ctx.map.partition(partition);
  const current = record?.epoch ?? 0;
  if (epoch !== current) {
    const primary = record?.primary ?? null;
    throw staleEpoch(`partition ${partition} is at epoch ${current}, the request carried ${epoch}`, current, primary, primary === null ? null : ctx.map.nodeUrl(primary) ?? null);
  }
}

/** This node is not the primary of the partition at the current epoch. */
export function notPrimary(ctx: NodeContext, partition: number): DetailedApiError {
  const record = ctx.map.partition(partition);
  const primary = record?.primary ?? null;
  const epoch = record?.epoch ?? 0;
  return staleEpoch(`this node is not the primary of partition ${partition} at epoch ${epoch}${primary !== null ? `; ask ${primary}` : ''}`, epoch, primary, primary === null ? null : ctx.map.nodeUrl(primary) ?? null);
}

/** If-Match "<version>" or If-None-Match: * (not both). */
export function precondition(koa: Context): number | 'absent' | undefined {
  const ifMatch = koa.get('if-match').trim();
  const ifNoneMatch = koa.get('if-none-match').trim();
  if (ifMatch !== '' && ifNoneMatch !== '') throw new ApiError(400, 'bad-precondition', 'send If-Match or If-None-Match, not both');
  if (ifNoneMatch !== '') {
    if (ifNoneMatch !== '*') throw new ApiError(400, 'bad-precondition', 'If-None-Match supports only "*" (create if absent)');
    return 'absent';
  }
  if (ifMatch === '') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(ifMatch);
  if (m === null || Number(m[1]) < 1) throw new ApiError(400, 'bad-precondition', 'If-Match must be an ETag "<version>" (a positive integer)');
  return Number(m[1]);
}

export interface ValueHeaders {
  readonly contentType: string;
  readonly plainSize?: number;
  readonly digest?: string;
  readonly size?: number;
}

export function valueHeaders(koa: Context, limits: NodeLimits): ValueHeaders {
  const contentType = koa.get('content-type') || 'application/octet-stream';
  const out: { contentType: string; plainSize?: number; digest?: string; size?: number } = { contentType };
  const digest = koa.get('x-opera-digest');
  if (digest !== '') {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new ApiError(400, 'bad-digest', 'X-Opera-Digest must be the SHA-256 of the body as 64 lowercase hex characters');
    out.digest = digest;
  }
  const plain = koa.get('x-opera-plain-size');
  if (plain !== '') {
    if (!/^\d{1,15}$/.test(plain)) throw new ApiError(400, 'bad-plain-size', 'X-Opera-Plain-Size must be a non-negative integer');
    out.plainSize = Number(plain);
  }
  const length = koa.get('content-length');
  if (length !== '') {
    if (!/^\d{1,15}$/.test(length)) throw new ApiError(400, 'bad-length', 'Content-Length must be a non-negative integer');
    out.size = Number(length);
    if (out.size > limits.maxObjectBytes) throw new ApiError(413, 'too-large', `values are limited to ${limits.maxObjectBytes} bytes`);
  }
  return out;
}

/** The body, refused beyond the size limit even without a Content-Length. */
export async function* boundedBody(koa: Context, limit: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const piece of koa.req as AsyncIterable<Buffer>) {
    total += piece.length;
    if (total > limit) throw new ApiError(413, 'too-large', `values are limited to ${limit} bytes`);
    yield piece;
  }
}

/** A single `Range: bytes=a-b | a- | -n` against an object of `size` bytes; null for none. */
export function parseRange(koa: Context, size: number): ByteRange | null {
  const header = koa.get('range');
  if (header === '') return null;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) throw new ApiError(416, 'range-not-satisfiable', 'Range must be one "bytes=a-b", "bytes=a-" or "bytes=-n"');
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw new ApiError(416, 'range-not-satisfiable', `the object has ${size} bytes`);
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (end < start) throw new ApiError(416, 'range-not-satisfiable', 'the range ends before it starts');
  return { start, end };
}
