// Node-to-node routes (role `node`): epoch start (fencing), beacons, replication batches,
// partition status, op-log pulls and partition copies. The caller's node id is the
// token's subject; a primary may only speak for itself.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { ApiError, readJson } from '../../common/http-errors.js';
import type { TokenClaims } from '../../crypto/tokens.js';
import type { NodeContext } from '../context.js';
import type { LearnerTasks } from '../learner.js';
import { applyBatch, buildBatch } from '../replication/ops.js';
import { releasedBy, type PartitionRoles } from '../roles.js';
import { StaleEpochError } from '../store/index.js';
import { throttled } from '../throttle.js';
import { encodeExport } from '../wire/export-codec.js';
import { encodeOps, OpsReader } from '../wire/ops-codec.js';
import type { RouteSpec } from './app.js';
import { staleEpoch, unavailable } from './errors.js';
import { parsePartition } from './request-parts.js';

const NODE = ['node'] as const;
const INSPECT = ['node', 'admin', 'sentinel', 'gateway'] as const;
const P = '(\\d{1,6})';
const MAX_BEACON_ITEMS = 65536;

export function replicationRoutes(ctx: NodeContext, roles: PartitionRoles, learners: LearnerTasks): RouteSpec[] {
  const h = new ReplicationHandlers(ctx, roles, learners);
  const at = (suffix: string): RegExp => new RegExp(`^/v1/partitions/${P}/${suffix}$`);
  return [
    { method: ['POST'], pattern: at('epoch-start'), name: '/v1/partitions/{p}/epoch-start', roles: NODE, handler: (k, [p]) => h.epochStart(k, p!) },
    { method: ['POST'], pattern: /^\/v1\/beacons$/, name: '/v1/beacons', roles: NODE, handler: (k) => h.beacons(k) },
    { method: ['POST'], pattern: at('replicate'), name: '/v1/partitions/{p}/replicate', roles: NODE, handler: (k, [p]) => h.replicate(k, p!) },
    { method: ['GET'], pattern: at('status'), name: '/v1/partitions/{p}/status', roles: INSPECT, handler: (k, [p]) => h.status(k, p!) },
    { method: ['GET'], pattern: at('ops'), name: '/v1/partitions/{p}/ops', roles: NODE, handler: (k, [p]) => h.ops(k, p!) },
    { method: ['GET'], pattern: at('export'), name: '/v1/partitions/{p}/export', roles: NODE, handler: (k, [p]) => h.export(k, p!) },
  ];
}

class ReplicationHandlers {
  constructor(
    private readonly ctx: NodeContext,
    private readonly roles: PartitionRoles,
    private readonly learners: LearnerTasks,
  ) {}

  /** The newest epoch this node knows for the partition: its map, its messages, its store. */
  async #known(partition: number): Promise<{ epoch: number; lastSeq: number }> {
    const state = await this.ctx.store.partitionState(partition);
    return { epoch: Math.max(this.ctx.leases.knownEpoch(partition), state?.epoch ?? 0), lastSeq: state?.lastSeq ?? 0 };
  }

  #stale(partition: number, given: number, known: number): ApiError {
    const record = this.ctx.map.partition(partition);
    const primary = record !== undefined && record.epoch === known ? record.primary : null;
    return staleEpoch(`partition ${partition} is at epoch ${known}; the message carried ${given}`, known, primary, primary === null ? null : this.ctx.map.nodeUrl(primary) ?? null);
  }

  /**
   * A message claiming to come from the primary of `epoch`: at the epoch of our map it
   * must be the map's primary; a newer epoch is news (our map lags) and is fetched.
   */
  #checkSender(partition: number, epoch: number, sender: string): void {
    const record = this.ctx.map.partition(partition);
    if (record === undefined || epoch > record.epoch) {
      void this.ctx.map.refresh().catch(() => undefined);
      return;
    }
    if (epoch === record.epoch && record.primary !== sender) {
      throw new ApiError(409, 'not-primary', `${sender} is not the primary of partition ${partition} at epoch ${epoch} (${String(record.primary)} is)`);
    }
  }

  /** A partition copied from one primary may only be fenced by that primary (else it needs a new copy). */
  #checkLineage(partition: number, primary: string): void {
    const source = this.learners.copiedFrom.get(partition);
    if (source === undefined) return;
    if (source !== primary) {
      throw new ApiError(409, 'lineage-mismatch', `partition ${partition} was copied from ${source}, not from ${primary}: it needs a fresh copy`);
    }
    this.learners.copiedFrom.delete(partition);
  }

  async epochStart(koa: Context, rawP: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const body = (await readJson(koa, 4096)) as { epoch?: unknown; primary?: unknown } | null;
    const epoch = body?.epoch;
    const primary = callerOf(koa);
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1 || body?.primary !== primary) {
      throw new ApiError(400, 'bad-request', 'the body must be {"epoch": <positive integer>, "primary": <the caller\'s node id>}');
    }
    const known = await this.#known(partition);
    if (epoch < known.epoch) throw this.#stale(partition, epoch, known.epoch);
    // Whether the old primary released its lease is meta's word, not the caller's: read it.
    if ((this.ctx.map.partition(partition)?.epoch ?? -1) < epoch) await this.ctx.map.refresh().catch(() => undefined);
    this.#checkSender(partition, epoch, primary);
    this.#checkLineage(partition, primary);
    const now = this.ctx.now();
    const record = this.ctx.map.partition(partition);
    const released = record?.epoch === epoch ? releasedBy(record) : null;
    const promiseMs = Math.ceil(this.ctx.leases.promiseRemaining(partition, primary, now, released));
    const state = await this.ctx.store.setPartitionState(partition, { epoch }).catch((err: unknown) => {
      if (err instanceof StaleEpochError) throw this.#stale(partition, epoch, epoch + 1);
      throw err;
    });
    this.ctx.leases.observe(partition, epoch, primary, now);
    koa.body = { lastSeq: state.lastSeq, promiseMs };
  }

  async beacons(koa: Context): Promise<void> {
    const body = (await readJson(koa, 4 * 1024 * 1024)) as { primary?: unknown; items?: unknown } | null;
    const primary = callerOf(koa);
    const items = body?.items;
    if (body?.primary !== primary || !Array.isArray(items) || items.length > MAX_BEACON_ITEMS) {
      throw new ApiError(400, 'bad-request', 'the body must be {"primary": <the caller\'s node id>, "items": [{"partition", "epoch"}, ...]}');
    }
    const partitions = this.ctx.map.current?.settings?.partitions ?? 0;
    const now = this.ctx.now();
    const answers = [];
    for (const item of items as { partition?: unknown; epoch?: unknown }[]) {
      const { partition, epoch } = item ?? {};
      if (typeof partition !== 'number' || !Number.isSafeInteger(partition) || partition < 0 || partition >= partitions || typeof epoch !== 'number' || !Number.isSafeInteger(epoch)) {
        throw new ApiError(400, 'bad-request', 'each beacon item must be {"partition": <existing partition>, "epoch": <integer>}');
      }
      const known = await this.#known(partition);
      const record = this.ctx.map.partition(partition);
      const verdict = epoch < known.epoch
        ? 'stale-epoch'
        : record !== undefined && record.epoch === epoch && record.primary !== primary ? 'wrong-primary' : this.ctx.leases.onBeacon(partition, epoch, primary, now);
      answers.push({ partition, ok: verdict === 'ok', epoch: Math.max(known.epoch, this.ctx.leases.knownEpoch(partition)), lastSeq: known.lastSeq, ...(verdict === 'ok' ? {} : { code: verdict }) });
    }
    koa.body = { items: answers };
  }

  async replicate(koa: Context, rawP: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const sender = callerOf(koa);
    const lastSeq = await this.ctx.applyLocks.run(partition, () => applyBatch(this.ctx.store, partition, new OpsReader(koa.req), (header) => {
      const known = this.ctx.leases.knownEpoch(partition);
      if (header.epoch < known) throw this.#stale(partition, header.epoch, known);
      this.#checkSender(partition, header.epoch, sender);
      this.#checkLineage(partition, sender);
      this.ctx.leases.observe(partition, header.epoch, sender, this.ctx.now());
    })).catch((err: unknown) => {
      if (err instanceof StaleEpochError) throw this.#stale(partition, -1, this.ctx.leases.knownEpoch(partition));
      throw err;
    });
    koa.body = { lastSeq };
  }

  async status(koa: Context, rawP: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const state = await this.ctx.store.partitionState(partition);
    // A node without the partition's data must not look like a candidate for primary.
    if (state === null || state.status !== 'active') throw new ApiError(404, 'no-data', `partition ${partition} is not held here`);
    const known = await this.#known(partition);
    const since = this.ctx.leases.sinceBeacon(partition, this.ctx.now());
    const driver = this.roles.primary(partition);
    koa.body = {
      partition,
      role: this.roles.roleOf(partition),
      epoch: known.epoch,
      lastSeq: known.lastSeq,
      sinceBeaconMs: Number.isFinite(since) ? Math.round(since) : null,
      campaigning: this.ctx.leases.campaigning(partition),
      primary: driver?.core ? { phase: driver.core.phase, committedSeq: driver.core.committedSeq(), lease: driver.core.leaseValid(this.ctx.now()) } : null,
    };
  }

  /** Ops after `after`, to a new primary adopting them or a learner catching up. */
  async ops(koa: Context, rawP: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const after = intQuery(koa, 'after');
    const epoch = intQuery(koa, 'epoch', true);
    const state = await this.ctx.store.partitionState(partition);
    if (state === null || state.status !== 'active') throw unavailable('partition-unavailable', `partition ${partition} is not held here`);
    const primary = this.roles.primary(partition);
    const allowed = epoch === undefined ? primary !== undefined : state.epoch === epoch || primary?.epoch === epoch;
    if (!allowed) throw this.#stale(partition, epoch ?? -1, Math.max(state.epoch, this.ctx.leases.knownEpoch(partition)));
    const batch = await buildBatch(this.ctx.store, partition, state.epoch, after);
    if (batch.kind === 'full-copy-needed') throw new ApiError(409, 'full-copy-needed', `ops after ${after} are not in the log here (${batch.reason}): copy the partition`);
    const header = batch.kind === 'batch' ? batch.header : { partition, epoch: state.epoch, fromSeq: after, toSeq: after, count: 0 };
    const ops = batch.kind === 'batch' ? batch.ops : [];
    try {
      await this.#stream(koa, encodeOps(header, ops));
    } finally {
      if (batch.kind === 'batch') await batch.release();
    }
  }

  /** A full copy, only from the primary of the epoch the learner saw. */
  async export(koa: Context, rawP: string): Promise<void> {
    const partition = parsePartition(this.ctx, rawP);
    const epoch = intQuery(koa, 'epoch', true);
    const driver = this.roles.primary(partition);
    if (driver === undefined || (epoch !== undefined && driver.epoch !== epoch)) {
      throw this.#stale(partition, epoch ?? -1, this.ctx.map.partition(partition)?.epoch ?? 0);
    }
    const state = await this.ctx.store.partitionState(partition);
    koa.set('X-Opera-Partition-Bytes', String(state?.bytes ?? 0));
    koa.set('X-Opera-Partition-Objects', String((state?.objects ?? 0) + (state?.tombstones ?? 0)));
    await this.#stream(koa, throttled(encodeExport(this.ctx.store.exportPartition(partition)), this.ctx.repairBucket, this.ctx.now));
  }

  async #stream(koa: Context, body: AsyncIterable<Buffer>): Promise<void> {
    koa.respond = false;
    koa.res.writeHead(200, { ...(koa.response.headers as Record<string, string>), 'content-type': 'application/octet-stream' });
    await pipeline(Readable.from(body), koa.res);
  }
}

function callerOf(koa: Context): string {
  return (koa.state['claims'] as TokenClaims).sub;
}

function intQuery(koa: Context, name: string): number;
function intQuery(koa: Context, name: string, optional: true): number | undefined;
function intQuery(koa: Context, name: string, optional = false): number | undefined {
  const v = koa.query[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) throw new ApiError(400, 'bad-query', `${name} must be a non-negative integer`);
  return Number(v);
}
