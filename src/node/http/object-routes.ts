// The data routes of docs/data-plane.md: PUT, GET, HEAD, DELETE of one object and the
// listing of a partition. Writes go to the primary of the current epoch and are answered
// once every in-sync replica has them. Linearizable reads (the default) are served by the
// primary from a store snapshot, only for committed versions and only under its lease;
// `consistency=any` reads are served by any in-sync replica as it stands.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import type { NodeContext } from '../context.js';
import type { PrimaryDriver } from '../replication/primary.js';
import type { PartitionRoles } from '../roles.js';
import type { ObjectMeta, ObjectRead } from '../store/index.js';
import { CorruptObjectError } from '../store/index.js';
import type { RouteSpec } from './app.js';
import { unavailable } from './errors.js';
import {
  boundedBody, checkEpochHeader, checkPrefix, notPrimary as notPrimaryError, parseKey, parsePartition, parseRange, precondition, valueHeaders,
  type NodeLimits,
} from './request-parts.js';

const DATA_ROLES = ['client', 'admin', 'gateway'] as const;
/** Reads are also open to nodes (repair, checks between replicas). */
const READ_ROLES = ['client', 'admin', 'gateway', 'node'] as const;
const OBJECT = /^\/v1\/partitions\/(\d{1,6})\/objects\/(.+)$/;
const LIST = /^\/v1\/partitions\/(\d{1,6})\/objects\/?$/;

/** `onCorrupt`: a read found stored bytes that do not match their digest in this partition. */
export function objectRoutes(ctx: NodeContext, roles: PartitionRoles, limits: NodeLimits, onCorrupt: (partition: number) => void = () => {}): RouteSpec[] {
  const h = new ObjectHandlers(ctx, roles, limits, onCorrupt);
  return [
    { method: ['PUT'], pattern: OBJECT, name: '/v1/partitions/{p}/objects/{key}', roles: DATA_ROLES, handler: (k, [p, key]) => h.put(k, p!, key!) },
    { method: ['GET', 'HEAD'], pattern: OBJECT, name: '/v1/partitions/{p}/objects/{key}', roles: READ_ROLES, handler: (k, [p, key]) => h.get(k, p!, key!) },
    { method: ['DELETE'], pattern: OBJECT, name: '/v1/partitions/{p}/objects/{key}', roles: DATA_ROLES, handler: (k, [p, key]) => h.delete(k, p!, key!) },
    { method: ['GET'], pattern: LIST, name: '/v1/partitions/{p}/objects', roles: READ_ROLES, handler: (k, [p]) => h.list(k, p!) },
  ];
}

class ObjectHandlers {
  constructor(
    private readonly ctx: NodeContext,
    private readonly roles: PartitionRoles,
    private readonly limits: NodeLimits,
    private readonly onCorrupt: (partition: number) => void,
  ) {}

  async put(koa: Context, rawP: string, rawKey: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const key = parseKey(this.ctx, partition, rawKey);
    checkEpochHeader(this.ctx, koa, partition);
    const expectVersion = precondition(koa);
    const headers = valueHeaders(koa, this.limits);
    const driver = this.#writablePrimary(partition);
    const meta = await driver.trackWrite(() => this.ctx.store.putStream(partition, key, headers, boundedBody(koa, this.limits.maxObjectBytes), {
      epoch: driver.epoch,
      ...(expectVersion !== undefined ? { expectVersion } : {}),
    }), (m) => m.version);
    await this.#confirm(driver, meta.version, meta.size);
    koa.status = 201;
    koa.set('ETag', `"${meta.version}"`);
    koa.body = { version: meta.version, digest: meta.digest, size: meta.size };
  }

  async delete(koa: Context, rawP: string, rawKey: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const key = parseKey(this.ctx, partition, rawKey);
    checkEpochHeader(this.ctx, koa, partition);
    const expectVersion = precondition(koa);
    const driver = this.#writablePrimary(partition);
    const result = await driver.trackWrite(() => this.ctx.store.delete(partition, key, { epoch: driver.epoch, ...(expectVersion !== undefined ? { expectVersion } : {}) }), (r) => r.version);
    await this.#confirm(driver, result.version, 0);
    koa.set('ETag', `"${result.version}"`);
    koa.body = { version: result.version, existed: result.existed };
  }

  async get(koa: Context, rawP: string, rawKey: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const key = parseKey(this.ctx, partition, rawKey);
    const any = consistencyOf(koa) === 'any';
    if (!any) checkEpochHeader(this.ctx, koa, partition);
    const driver = any ? await this.#replicaCheck(partition) : this.#readablePrimary(partition);
    const { store } = this.ctx;
    const head = await store.head(partition, key);
    const range = head !== null ? parseRange(koa, head.size) : null;
    // The snapshot first, then the checks: what it holds was current when the lease is confirmed.
    const read = await store.getStream(partition, key, range !== null ? { range } : {});
    try {
      if (driver !== null) {
        const version = read?.meta.version ?? (await store.head(partition, key, { includeTombstones: true }))?.version ?? null;
        await this.#linearizable(driver, version);
      }
    } catch (err) {
      await read?.close();
      throw err;
    }
    if (read === null) throw new ApiError(404, 'not-found', `no object ${JSON.stringify(key)} in partition ${partition}`);
    await this.#send(koa, partition, read);
  }

  async list(koa: Context, rawP: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const any = consistencyOf(koa) === 'any';
    const prefix = queryString(koa, 'prefix') ?? '';
    checkPrefix(prefix);
    const after = queryString(koa, 'after');
    const limitRaw = queryString(koa, 'limit');
    const limit = limitRaw === undefined ? 1000 : Number(limitRaw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new ApiError(400, 'bad-limit', 'limit must be an integer from 1 to 10000');
    if (!any) checkEpochHeader(this.ctx, koa, partition);
    const driver = any ? await this.#replicaCheck(partition) : this.#readablePrimary(partition);
    const page = await this.ctx.store.list(partition, { prefix, limit, ...(after !== undefined ? { after } : {}) });
    if (driver !== null) {
      const newest = page.items.reduce((m, it) => Math.max(m, it.version), 0);
      await this.#linearizable(driver, newest);
    }
    koa.body = { items: page.items.map(describe), next: page.next };
  }

  #writablePrimary(partition: number): PrimaryDriver {
    return writablePrimary(this.ctx, this.roles, partition);
  }

  #readablePrimary(partition: number): PrimaryDriver {
    const driver = this.roles.primary(partition);
    if (driver === undefined) throw notPrimaryError(this.ctx, partition);
    return driver;
  }

  /**
   * consistency=any: an in-sync replica of the current epoch that holds the partition may
   * answer, if it has heard from its primary within the promise period (a primary: if it
   * holds its read lease). A node resumed after a long pause still believes the map it had
   * and holds a stale copy; until a beacon or the new map reaches it, it refuses.
   */
  async #replicaCheck(partition: number): Promise<null> {
    const role = this.roles.roleOf(partition);
    if (role !== 'primary' && role !== 'replica') throw notPrimaryError(this.ctx, partition);
    const now = this.ctx.now();
    const core = role === 'primary' ? this.roles.primary(partition)?.core : undefined;
    const fresh = role === 'primary' ? core != null && core.phase !== 'stale' && core.leaseValid(now) : this.ctx.leases.sinceBeacon(partition, now) <= this.ctx.leases.promiseMs;
    if (!fresh) throw unavailable('not-current', `partition ${partition}: this copy has not been confirmed current within the lease period; ask another replica or the primary`);
    const state = await this.ctx.store.partitionState(partition);
    if (state === null || state.status !== 'active') throw unavailable('no-data', `partition ${partition} is not loaded on this node yet; ask another replica`);
    return null;
  }

  #confirm(driver: PrimaryDriver, seq: number, size: number): Promise<void> {
    return confirmWrite(this.ctx, driver, seq, size);
  }

  /** After the snapshot was taken: the version read (or the tombstone) must be committed, then the lease must hold. */
  async #linearizable(driver: PrimaryDriver, version: number | null): Promise<void> {
    if (version !== null) {
      const limit = this.ctx.timing.timeoutMs * 2;
      await withTimeout(driver.waiters.wait(version), limit, () => unavailable('write-unconfirmed', 'the newest version is not confirmed by every replica yet; retry'));
    }
    if (driver.stopped || driver.core === null || driver.core.phase === 'stale') throw notPrimaryError(this.ctx, driver.partition);
    if (!driver.core.leaseValid(this.ctx.now())) {
      throw unavailable('no-lease', `partition ${driver.partition}: the primary holds no read lease right now (a replica is slow or a failover is under way); retry`);
    }
  }

  async #send(koa: Context, partition: number, read: ObjectRead): Promise<void> {
    const { meta } = read;
    koa.set('ETag', `"${meta.version}"`);
    koa.set('X-Opera-Version', String(meta.version));
    koa.set('X-Opera-Digest', meta.digest);
    koa.set('X-Opera-Size', String(meta.size));
    koa.set('X-Opera-Content-Type', meta.contentType);
    koa.set('X-Opera-Created-At', String(meta.createdAt));
    if (meta.plainSize !== null) koa.set('X-Opera-Plain-Size', String(meta.plainSize));
    koa.set('Accept-Ranges', 'bytes');
    koa.type = 'application/octet-stream';
    if (read.range !== null) {
      koa.status = 206;
      koa.set('Content-Range', `bytes ${read.range.start}-${read.range.end}/${meta.size}`);
    } else {
      koa.status = 200;
    }
    koa.length = read.length;
    if (koa.method === 'HEAD') {
      await read.close();
      return;
    }
    try {
      if (read.length <= this.limits.verifyBeforeSend) {
        // Small values are checked whole before the first byte goes out: a clean 500 on rot.
        const parts: Buffer[] = [];
        for await (const piece of read.body) parts.push(piece);
        koa.body = Buffer.concat(parts);
        return;
      }
      koa.respond = false;
      koa.res.writeHead(koa.status, koa.response.headers as Record<string, string>);
      await pipeline(Readable.from(holdLast(read.body)), koa.res);
    } catch (err) {
      if (err instanceof CorruptObjectError) {
        this.ctx.metrics.readCorrupt.inc({});
        this.ctx.log.error({ partition, key: meta.key, version: meta.version, reason: err.reason }, 'stored bytes do not match their digest');
        this.onCorrupt(partition);
      }
      throw err;
    } finally {
      await read.close();
    }
  }
}

/**
 * The store checks a whole value's digest after its last piece: holding each piece back
 * until the next one (or the clean end) arrives means a corrupt value never reaches its
 * last byte, so the client sees a cut body, never a complete wrong one.
 */
async function* holdLast(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let held: Buffer | null = null;
  for await (const piece of body) {
    if (held !== null) yield held;
    held = piece;
  }
  if (held !== null) yield held;
}

/** The primary driver when it accepts a new write now; 409 or 503 otherwise. */
export function writablePrimary(ctx: NodeContext, roles: PartitionRoles, partition: number): PrimaryDriver {
  const driver = roles.primary(partition);
  if (driver === undefined || driver.core === null) {
    if (driver !== undefined) throw unavailable('activating', `partition ${partition}: the primary is taking over`);
    throw notPrimaryError(ctx, partition);
  }
  const refusal = driver.core.writeRefusal();
  if (refusal !== null) {
    if (refusal.code === 'stale-epoch') throw notPrimaryError(ctx, partition);
    throw unavailable(refusal.code, refusal.message);
  }
  return driver;
}

/**
 * Waits until `seq` is on every in-sync replica. A replica that stalls is removed by the
 * primary's timeouts; this cap (generous: 1 MB/s for the value) only bounds the wait
 * when meta cannot be reached to remove it, and leaves the outcome unknown.
 */
export async function confirmWrite(ctx: NodeContext, driver: PrimaryDriver, seq: number, size: number): Promise<void> {
  driver.onLocalCommit(seq);
  const limit = ctx.timing.timeoutMs * 4 + ctx.timing.leaseMs + Math.ceil(size / 1000);
  await withTimeout(driver.waiters.wait(seq), limit, () => unavailable('write-unconfirmed', `the replicas did not confirm version ${seq} in ${limit} ms; the write may or may not have been applied`));
}

function consistencyOf(koa: Context): 'linearizable' | 'any' {
  const c = queryString(koa, 'consistency') ?? 'linearizable';
  if (c !== 'linearizable' && c !== 'any') throw new ApiError(400, 'bad-consistency', 'consistency must be "linearizable" (default) or "any"');
  return c;
}

function queryString(koa: Context, name: string): string | undefined {
  const v = koa.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ApiError(400, 'bad-query', `${name} may be given once`);
  return v;
}

function describe(m: ObjectMeta): Record<string, unknown> {
  return { key: m.key, version: m.version, size: m.size, plainSize: m.plainSize, contentType: m.contentType, digest: m.digest, createdAt: m.createdAt };
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
