// Learners: a node the map names as a learner of a partition copies it from the primary
// (GET /export, every digest verified by NodeStore.importRecords), catches up the tail
// from the op log (GET /ops), reports move-progress while copying and move-done at the
// end (meta then makes it an in-sync replica, epoch + 1). Rebalancing, joins and repair
// all arrive here as moves. Copies are throttled by the node's repair bandwidth, and a
// copy whose primary changed before it finished is started again (its tail may hold ops
// the new primary never had).
import type { NodeContext } from './context.js';
import { sleep } from './meta-link.js';
import type { Move, Plan } from '../meta/types.js';
import { applyBatch } from './replication/ops.js';
import { throttled } from './throttle.js';
import { decodeExport } from './wire/export-codec.js';
import { OpsReader } from './wire/ops-codec.js';

const MAX_ATTEMPTS = 5;
const PROGRESS_EVERY_MS = 2000;
const TAIL_ROUNDS = 1000;

interface MoveRef {
  readonly planId: string;
  /** ms until meta allows copying (repair grace). */
  readonly waitMs: number;
}

export class LearnerTasks {
  readonly #tasks = new Map<number, AbortController>();
  /** Partitions whose data came from a copy, and from which primary (until that primary fences them). */
  readonly copiedFrom = new Map<number, string>();

  constructor(private readonly ctx: NodeContext) {}

  running(partition: number): boolean {
    return this.#tasks.has(partition);
  }

  ensure(partition: number): void {
    if (this.#tasks.has(partition)) return;
    const abort = new AbortController();
    this.#tasks.set(partition, abort);
    void this.#run(partition, abort.signal).finally(() => {
      if (this.#tasks.get(partition) === abort) this.#tasks.delete(partition);
    });
  }

  cancel(partition: number): void {
    this.#tasks.get(partition)?.abort();
    this.#tasks.delete(partition);
  }

  stopAll(): void {
    for (const abort of this.#tasks.values()) abort.abort();
    this.#tasks.clear();
  }

  async #run(partition: number, signal: AbortSignal): Promise<void> {
    const { ctx } = this;
    let lastError = '';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && !signal.aborted; attempt++) {
      let move: MoveRef | null = null;
      try {
        move = await this.#findMove(partition);
        if (move === null) return; // not a learner any more
        if (move.waitMs > 0) {
          ctx.log.info({ partition, planId: move.planId, waitMs: move.waitMs }, 'learner waits for the repair grace period');
          await sleep(move.waitMs, signal);
          continue;
        }
        const bytesTotal = await this.#copy(partition, move.planId, signal);
        if (signal.aborted) return;
        const result = await ctx.control.run({ type: 'move-done', planId: move.planId, partition, target: ctx.self, bytesTotal });
        if (result.ok) {
          ctx.metrics.copies.inc({ result: 'done' });
          ctx.log.info({ partition, planId: move.planId, bytesTotal }, 'partition copied; now an in-sync replica');
        } else {
          ctx.log.warn({ partition, result }, 'meta refused move-done');
        }
        await ctx.map.refresh().catch(() => undefined);
        return;
      } catch (err) {
        if (signal.aborted) return;
        lastError = (err as Error).message;
        ctx.metrics.copies.inc({ result: 'retry' });
        ctx.log.warn({ partition, attempt, err: lastError }, 'partition copy failed');
        await sleep(Math.min(10_000, 500 * 2 ** attempt), signal);
        // The usual cause is a new epoch (a replica joined or left meanwhile): copy again
        // under the map as it is now, not as this node last heard it.
        await ctx.map.refresh().catch(() => undefined);
      }
    }
    if (signal.aborted) return;
    const move = await this.#findMove(partition).catch(() => null);
    if (move === null) return;
    ctx.metrics.copies.inc({ result: 'failed' });
    await ctx.control.run({ type: 'move-failed', planId: move.planId, partition, target: ctx.self, reason: lastError.slice(0, 200) }).catch(() => undefined);
    await ctx.map.refresh().catch(() => undefined);
  }

  /** The unfinished move that makes this node a learner of `partition`, from meta's full state. */
  async #findMove(partition: number): Promise<MoveRef | null> {
    const { state } = await this.ctx.metaClient.state('linearizable');
    for (const plan of state.plans as Plan[]) {
      if (plan.state !== 'active') continue;
      const move = plan.moves.find((m: Move) => m.partition === partition && m.target === this.ctx.self && (m.state === 'pending' || m.state === 'copying'));
      if (move !== undefined) return { planId: plan.id, waitMs: Math.max(0, plan.notBefore - state.clock) };
    }
    return null;
  }

  /** One full copy plus tail from the primary; returns the bytes copied. */
  async #copy(partition: number, planId: string, signal: AbortSignal): Promise<number> {
    const { ctx } = this;
    const record = ctx.map.partition(partition);
    const source = record?.primary ?? null;
    const url = source === null ? undefined : ctx.map.nodeUrl(source);
    if (record === undefined || source === null || url === undefined || source === ctx.self) throw new Error('no primary to copy from');
    const epoch = record.epoch;
    this.copiedFrom.delete(partition);
    await ctx.applyLocks.run(partition, () => ctx.store.dropPartition(partition));
    const { body, headers } = await ctx.peers.stream(url, `/v1/partitions/${partition}/export?epoch=${epoch}`, signal);
    const bytesTotal = Number(headers.get('x-opera-partition-bytes') ?? 0) || 0;
    let bytesDone = 0;
    let reported = -Infinity;
    const report = (): void => {
      if (ctx.now() - reported < PROGRESS_EVERY_MS) return;
      reported = ctx.now();
      void ctx.control.run({ type: 'move-progress', planId, partition, target: ctx.self, bytesDone, bytesTotal: Math.max(bytesTotal, bytesDone) }).catch(() => undefined);
    };
    report();
    const counted = async function* (src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const piece of src) {
        bytesDone += piece.byteLength;
        ctx.metrics.copyBytes.inc({}, piece.byteLength);
        report();
        yield piece;
      }
    };
    const state = await ctx.applyLocks.run(partition, () => ctx.store.importRecords(partition, decodeExport(throttled(counted(body), ctx.repairBucket, ctx.now), partition)));
    this.copiedFrom.set(partition, source);
    let seq = state.lastSeq;
    for (let round = 0; round < TAIL_ROUNDS && !signal.aborted; round++) {
      const { body: ops } = await ctx.peers.stream(url, `/v1/partitions/${partition}/ops?after=${seq}&epoch=${epoch}`, signal);
      const next = await ctx.applyLocks.run(partition, () => applyBatch(ctx.store, partition, new OpsReader(counted(ops))));
      if (next === seq) break;
      seq = next;
    }
    // A copy is only as good as its primary's history: if another primary took over meanwhile, start again.
    await ctx.map.refresh();
    const now = ctx.map.partition(partition);
    if (now?.primary !== source) throw new Error(`the primary changed from ${source} to ${String(now?.primary)} during the copy`);
    return Math.max(bytesTotal, bytesDone);
  }
}
