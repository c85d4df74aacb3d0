// POST /v1/partitions/{p}/batch: many small values for one partition in one request, for
// bulk loads. The primary commits the accepted items in one synced batch (group commit:
// one fsync for all), replication ships them to the in-sync replicas like any writes, and
// the answer comes once every in-sync replica has them all. Each item is its own object:
// its own version, its own precondition, its own (client-made) encryption.
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import { KeyError } from '../../common/keys.js';
import { decodeBase64url } from '../../crypto/base64url.js';
import type { NodeContext } from '../context.js';
import type { PartitionRoles } from '../roles.js';
import { MAX_MANY_ITEMS, type ManyItem } from '../store/index.js';
import type { RouteSpec } from './app.js';
import { confirmWrite, writablePrimary } from './object-routes.js';
import { checkEpochHeader, parseKey, parsePartition } from './request-parts.js';

const BATCH = /^\/v1\/partitions\/(\d{1,6})\/batch$/;
/** 1000 items of up to 64 KiB each would not fit; bulk loads send many small ones. */
export const MAX_BATCH_BODY_BYTES = 16 * 1024 * 1024;

export function batchRoutes(ctx: NodeContext, roles: PartitionRoles): RouteSpec[] {
  return [{
    method: ['POST'], pattern: BATCH, name: '/v1/partitions/{p}/batch', roles: ['client', 'admin', 'gateway'],
    handler: (koa, [p]) => putBatch(ctx, roles, koa, p!),
  }];
}

interface ItemJson {
  key?: unknown;
  value?: unknown;
  contentType?: unknown;
  plainSize?: unknown;
  ifNoneMatch?: unknown;
  ifMatch?: unknown;
}

async function putBatch(ctx: NodeContext, roles: PartitionRoles, koa: Context, rawP: string): Promise<void> {
  const partition = parsePartition(ctx, rawP);
  checkEpochHeader(ctx, koa, partition);
  const items = parseItems(ctx, partition, await readBody(koa));
  const driver = writablePrimary(ctx, roles, partition);
  const outcome = await driver.trackWrite(() => ctx.store.putMany(partition, items, { epoch: driver.epoch }), (o) => o.lastSeq ?? 0);
  if (outcome.lastSeq !== null) {
    const bytes = items.reduce((n, it) => n + it.value.length, 0);
    await confirmWrite(ctx, driver, outcome.lastSeq, bytes);
  }
  koa.status = 200;
  koa.body = {
    items: outcome.results.map((r) => r.ok
      ? { ok: true, version: r.meta.version, digest: r.meta.digest, size: r.meta.size }
      : { ok: false, status: 412, code: 'precondition-failed', message: r.error.message, currentVersion: r.error.currentVersion }),
  };
}

async function readBody(koa: Context): Promise<unknown> {
  if (!/^application\/json\b/i.test(koa.get('content-type'))) throw new ApiError(415, 'unsupported-media-type', 'a batch is application/json');
  const declared = Number(koa.get('content-length') || 0);
  if (declared > MAX_BATCH_BODY_BYTES) throw new ApiError(413, 'too-large', `a batch is at most ${MAX_BATCH_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of koa.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BATCH_BODY_BYTES) throw new ApiError(413, 'too-large', `a batch is at most ${MAX_BATCH_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'bad-json', 'the batch is not valid JSON');
  }
}

/** `{"items": [{"key", "value" (base64url), "contentType", "plainSize"?, "ifNoneMatch"? | "ifMatch"?}]}` */
function parseItems(ctx: NodeContext, partition: number, body: unknown): ManyItem[] {
  const list = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_MANY_ITEMS) {
    throw new ApiError(400, 'bad-request', `the body must be {"items": [...]} with 1 to ${MAX_MANY_ITEMS} items`);
  }
  return list.map((raw: ItemJson, i) => {
    const bad = (rule: string): ApiError => new ApiError(400, 'bad-request', `items[${i}]: ${rule}`);
    if (typeof raw !== 'object' || raw === null) throw bad('must be an object');
    if (typeof raw.key !== 'string') throw bad('"key" must be a string');
    let key: string;
    try {
      key = parseKey(ctx, partition, encodeURIComponent(raw.key));
    } catch (err) {
      if (err instanceof KeyError || err instanceof ApiError) throw bad(err.message);
      throw err;
    }
    const value = typeof raw.value === 'string' ? decodeBase64url(raw.value) : null;
    if (value === null) throw bad('"value" must be the stored bytes in unpadded base64url');
    if (typeof raw.contentType !== 'string') throw bad('"contentType" must be a string');
    if (raw.plainSize !== undefined && (typeof raw.plainSize !== 'number' || !Number.isSafeInteger(raw.plainSize) || raw.plainSize < 0)) {
      throw bad('"plainSize" must be a non-negative integer');
    }
    if (raw.ifNoneMatch !== undefined && raw.ifNoneMatch !== true) throw bad('"ifNoneMatch" can only be true');
    if (raw.ifMatch !== undefined && (typeof raw.ifMatch !== 'number' || !Number.isSafeInteger(raw.ifMatch) || raw.ifMatch < 1)) {
      throw bad('"ifMatch" must be a positive version');
    }
    if (raw.ifMatch !== undefined && raw.ifNoneMatch !== undefined) throw bad('send ifMatch or ifNoneMatch, not both');
    const expectVersion = raw.ifNoneMatch === true ? 'absent' as const : (raw.ifMatch as number | undefined);
    return {
      key, value, contentType: raw.contentType,
      ...(raw.plainSize !== undefined ? { plainSize: raw.plainSize as number } : {}),
      ...(expectVersion !== undefined ? { expectVersion } : {}),
    };
  });
}
