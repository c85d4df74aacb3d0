// The streaming object proxy for simple clients (curl): PUT/GET/HEAD/DELETE
// /v1/objects/<key> and an ordered, paginated listing. The gateway encrypts and
// decrypts here (it holds the KEK), and talks to the partition's primary like any
// direct-mode client, with a token it mints for itself.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { PassThrough, Transform } from 'node:stream';
import { ObjectClient, ObjectError } from '../../client/objects.js';
import { routeIn, type PartitionMapSource, type PartitionMapView } from '../../client/partition-map.js';
import { ApiError } from '../../common/http-errors.js';
import { KeyError, validateKey } from '../../common/keys.js';
import { partitionOf } from '../../meta/placement.js';
import { guard } from '../auth.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';
import { selfToken } from '../self-token.js';

const READ_ROLES = ['client', 'admin'] as const;
const WRITE_ROLES = ['client', 'admin'] as const;

/** The gateway's own map cache, seen as a client's map source. */
function mapSource(g: GatewayContext): PartitionMapSource {
  const view = (): PartitionMapView => {
    const m = g.mapCache.current();
    if (m === null) throw new ApiError(503, 'map-not-loaded', 'the partition map is not loaded yet; retry', { 'Retry-After': '1' });
    return {
      version: m.version,
      partitionCount: m.settings.partitions,
      nodes: Object.values(m.nodes).map((n) => ({ id: n.id, url: n.url, state: n.state })),
      partitions: m.partitions.map((p, partition) => ({ partition, epoch: p.epoch, primary: p.primary, replicas: [...p.replicas] })),
    };
  };
  return {
    current: async () => view(),
    refresh: async () => {
      await g.mapCache.refresh('stale-epoch');
      return view();
    },
    route: async (key) => {
      const v = view();
      return routeIn(v, partitionOf(key, v.partitionCount));
    },
    partition: async (p) => routeIn(view(), p),
  };
}

function keyParam(ctx: Context): string {
  const key = (ctx.params as { key?: string | string[] }).key;
  const k = Array.isArray(key) ? key.join('/') : key ?? '';
  try {
    validateKey(k);
  } catch (err) {
    if (err instanceof KeyError) throw new ApiError(400, 'invalid-key', err.message);
    throw err;
  }
  return k;
}

function etagVersion(value: string | undefined, header: string): number | undefined {
  if (!value) return undefined;
  const n = Number(value.replace(/^W\//, '').replace(/"/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new ApiError(400, 'bad-request', `${header} must be an ETag this API returned`);
  return n;
}

function translate(err: unknown): never {
  if (err instanceof ObjectError) {
    const status = err.status >= 400 && err.status < 600 ? err.status : 502;
    throw new ApiError(status, err.code, err.message, status === 503 ? { 'Retry-After': '1' } : {});
  }
  throw err;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` against a known size; null when absent. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new ApiError(416, 'bad-range', 'only one range of the form bytes=a-b is supported');
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw new ApiError(416, 'range-not-satisfiable', `the range is outside 0..${size - 1}`, { 'Content-Range': `bytes */${size}` });
  return { start, end };
}

/** Passes through only bytes [start, end] of the stream. */
function slice(start: number, end: number): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(0, start - offset);
      const to = Math.min(chunk.length, end + 1 - offset);
      offset += chunk.length;
      if (from < to) this.push(chunk.subarray(from, to));
      done();
    },
  });
}

export const registerObjectRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  const token = selfToken(g);
  const client = new ObjectClient({ gateway: '', get token() { return token(); } }, { keys: g.keys, map: mapSource(g) });

  router.put('/v1/objects/*key', guard(g, WRITE_ROLES), async (ctx: Context) => {
    const key = keyParam(ctx);
    const ifMatch = etagVersion(ctx.get('if-match') || undefined, 'If-Match');
    const ifNoneMatch = ctx.get('if-none-match');
    if (ifNoneMatch && ifNoneMatch !== '*') throw new ApiError(400, 'bad-request', 'If-None-Match on PUT must be *');
    let used = false;
    const body = new PassThrough();
    // A client that goes away mid-upload fails the upload (nothing is committed); its
    // error is reported through the upload itself, never as an unhandled event.
    body.on('error', () => {});
    const cutOff = (): void => {
      if (!ctx.req.complete) body.destroy(new Error('the upload was cut off'));
    };
    ctx.req.on('aborted', cutOff);
    ctx.req.on('close', cutOff);
    ctx.req.on('error', cutOff);
    ctx.req.pipe(body);
    const res = await client.put(key, () => {
      // A streamed upload can be sent once; a retry needs the client to send it again.
      if (used) throw new ObjectError('the partition moved during the upload; send it again', 503, 'retry-upload');
      used = true;
      return body;
    }, {
      contentType: ctx.get('content-type') || 'application/octet-stream',
      ...(ifMatch !== undefined ? { ifMatch } : {}),
      ...(ifNoneMatch === '*' ? { ifNoneMatch: true } : {}),
    }).catch(translate);
    ctx.status = 201;
    ctx.set('ETag', `"${res.version}"`);
    ctx.body = { key, version: res.version };
  });

  // Before GET, whose layer would otherwise answer HEAD by reading the whole value.
  router.head('/v1/objects/*key', guard(g, READ_ROLES), async (ctx: Context) => {
    const key = keyParam(ctx);
    const info = await client.stat(key).catch(translate);
    if (!info) {
      ctx.status = 404;
      return;
    }
    ctx.status = 200;
    ctx.set('ETag', `"${info.version}"`);
    ctx.set('Accept-Ranges', 'bytes');
    ctx.type = info.contentType;
    ctx.length = info.size;
  });

  router.get('/v1/objects/*key', guard(g, READ_ROLES), async (ctx: Context) => {
    const key = keyParam(ctx);
    const consistency = ctx.query['consistency'] === 'any' ? 'any' : 'linearizable';
    const got = await client.get(key, { consistency }).catch(translate);
    if (!got) throw new ApiError(404, 'not-found', `no object ${key}`);
    const range = parseRange(ctx.get('range') || undefined, got.info.size);
    ctx.set('ETag', `"${got.info.version}"`);
    ctx.set('Accept-Ranges', 'bytes');
    ctx.type = got.info.contentType;
    got.body.on('error', (err) => g.log.warn({ key, err: err.message }, 'stored value failed to decrypt; the response was cut'));
    if (range) {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${got.info.size}`);
      ctx.length = range.end - range.start + 1;
      ctx.body = got.body.pipe(slice(range.start, range.end));
    } else {
      ctx.length = got.info.size;
      ctx.body = got.body;
    }
  });

  router.delete('/v1/objects/*key', guard(g, WRITE_ROLES), async (ctx: Context) => {
    const key = keyParam(ctx);
    const ifMatch = etagVersion(ctx.get('if-match') || undefined, 'If-Match');
    const existed = await client.delete(key, ifMatch !== undefined ? { ifMatch } : {}).catch(translate);
    if (!existed) throw new ApiError(404, 'not-found', `no object ${key}`);
    ctx.status = 204;
  });

  router.get('/v1/objects', guard(g, READ_ROLES), async (ctx: Context) => {
    const prefix = typeof ctx.query['prefix'] === 'string' ? ctx.query['prefix'] : '';
    const limit = Number(ctx.query['limit'] ?? 1000);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new ApiError(400, 'bad-request', 'limit must be 1..10000');
    const cursor = typeof ctx.query['after'] === 'string' ? ctx.query['after'] : undefined;
    let after: string | undefined;
    if (cursor) {
      after = Buffer.from(cursor, 'base64url').toString('utf8');
      if (!after) throw new ApiError(400, 'bad-cursor', 'after must be a cursor returned by this listing');
    }
    try {
      const page = await client.list(prefix, { limit, ...(after ? { after } : {}) });
      ctx.body = { items: page.items, next: page.next === null ? null : Buffer.from(page.next, 'utf8').toString('base64url') };
    } catch (err) {
      if (err instanceof KeyError) throw new ApiError(400, 'invalid-prefix', err.message);
      translate(err);
    }
  });
};
