// Shared helpers for the meta tests: a seeded PRNG and a small driver for the state machine.

import { apply, initialState, type ApplyResult } from '../../src/meta/state.js';
import type { MetaState } from '../../src/meta/types.js';

/** mulberry32: tiny, fast, good enough to drive test schedules reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(fallback: number): number {
  const raw = process.env['META_TEST_SEED'];
  return raw === undefined ? fallback : Number(raw);
}

/** Applies commands in order, failing loudly on the first rejection unless told otherwise. */
export class Driver {
  state: MetaState = initialState();
  now = 1_000;
  last: ApplyResult | null = null;

  run(command: object, opts: { at?: number; expectReject?: boolean } = {}): ApplyResult {
    if (opts.at !== undefined) this.now = opts.at;
    const out = apply(this.state, command, this.now);
    this.last = out.result;
    if (!out.result.ok && opts.expectReject !== true) {
      throw new Error(`command ${JSON.stringify(command)} rejected: ${out.result.code}: ${out.result.message}`);
    }
    this.state = out.state;
    return out.result;
  }

  ok(command: object, at?: number): ApplyResult & { ok: true } {
    const r = this.run(command, at === undefined ? {} : { at });
    if (!r.ok) throw new Error('unreachable');
    return r;
  }

  init(partitions = 16, replication = 3, extra: object = {}): this {
    this.ok({ type: 'init-cluster', clusterId: 'test', partitions, replication, repairGraceMs: 1_000, ...extra });
    return this;
  }

  join(id: string, extra: object = {}): ApplyResult & { ok: true } {
    return this.ok({
      type: 'node-join',
      nodeId: id,
      url: `http://${id}.test:7000`,
      publicKey: `pk-${id}`,
      capacity: 1,
      tokenId: `tok-${id}`,
      tokenExpiresAt: this.now + 60_000,
      ...extra,
    });
  }

  /** Completes every unfinished move of a plan (after its grace period). */
  finish(planId: string): void {
    const plan = this.state.plans.find((p) => p.id === planId);
    if (plan === undefined) throw new Error(`no plan ${planId}`);
    if (this.now < plan.notBefore) this.now = plan.notBefore;
    for (const m of plan.moves) {
      if (m.state !== 'pending' && m.state !== 'copying') continue;
      this.ok({ type: 'move-done', planId, partition: m.partition, target: m.target, bytesTotal: 10 });
    }
  }

  /** Joins nodes one by one and settles each join plan, leaving a fully placed cluster. */
  cluster(ids: readonly string[], extra: (id: string) => object = () => ({})): this {
    for (const id of ids) {
      const r = this.join(id, extra(id));
      if (r.planId !== undefined) this.finish(r.planId);
      this.ok({ type: 'node-heartbeat', nodeId: id });
    }
    return this;
  }
}

/** partition -> replicas, for assertions. */
export function replicaMap(state: MetaState): string[][] {
  return state.partitions.map((p) => [...p.replicas].sort());
}
