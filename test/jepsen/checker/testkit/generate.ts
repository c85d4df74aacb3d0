// Random register histories that are linearizable by construction: every operation gets
// a linearization point strictly inside its interval, and outputs come from a real
// sequential register applied in that order. Plus mutations that break them.

import type { CompletionStatus, ProcessId } from '../history.js';
import type { KeyedRegisterInput, RegisterOutput, RegisterValue } from '../register.js';
import type { Spec } from './build.js';
import type { Rng } from './prng.js';

export type KeyedSpec = Spec<KeyedRegisterInput, RegisterOutput>;

export interface GenOptions {
  readonly ops: number;
  readonly keys: number;
  /** Concurrent clients. */
  readonly processes: number;
  readonly readRatio?: number;
  readonly casRatio?: number;
  /** Share of operations whose outcome is unknown (half of those took effect). */
  readonly unknownRate?: number;
  /** Share of operations that definitely failed. */
  readonly failRate?: number;
  readonly maxGap?: number;
  readonly maxLatency?: number;
  /** Draw written values from v1..vN (repeats allowed) instead of unique ones. */
  readonly values?: number;
}

interface Planned {
  readonly p: ProcessId;
  readonly call: number;
  readonly lin: number;
  readonly ret: number;
  readonly key: string;
  readonly f: 'read' | 'write' | 'cas';
  readonly status: CompletionStatus;
  /** For unknown outcomes: whether it took effect. */
  readonly applied: boolean;
}

function plan(rng: Rng, o: GenOptions): Planned[] {
  const readRatio = o.readRatio ?? 0.5;
  const casRatio = o.casRatio ?? 0.2;
  const unknownRate = o.unknownRate ?? 0;
  const failRate = o.failRate ?? 0;
  const maxGap = o.maxGap ?? 5;
  const maxLatency = o.maxLatency ?? 10;
  const slots = Array.from({ length: o.processes }, (_, i) => ({ pid: i as ProcessId, free: 0 }));
  let nextPid = o.processes;
  const out: Planned[] = [];
  for (let i = 0; i < o.ops; i++) {
    const slot = slots.reduce((a, b) => (b.free < a.free ? b : a));
    const call = slot.free + rng.int(1, maxGap);
    const lin = call + rng.int(1, maxLatency);
    const ret = lin + rng.int(1, maxLatency);
    const roll = rng.next();
    const f = roll < readRatio ? 'read' : roll < readRatio + casRatio ? 'cas' : 'write';
    const s = rng.next();
    const status: CompletionStatus = s < failRate ? 'fail' : s < failRate + unknownRate ? 'info' : 'ok';
    out.push({ p: slot.pid, call, lin, ret, key: `k${rng.int(0, o.keys - 1)}`, f, status, applied: status === 'info' && rng.chance(0.5) });
    slot.free = ret;
    // As in Jepsen, a client whose operation is in doubt is replaced by a new process.
    if (status === 'info') slot.pid = nextPid++;
  }
  return out;
}

/** A linearizable history; written values are unique (`v1`, `v2`, ...) unless `values` is set. */
export function generateRegisterHistory(rng: Rng, o: GenOptions): KeyedSpec[] {
  const planned = plan(rng, o);
  const order = planned.map((_, i) => i).sort((a, b) => planned[a].lin - planned[b].lin || a - b);
  const current = new Map<string, RegisterValue | null>();
  const written = new Map<string, RegisterValue[]>();
  const specs: KeyedSpec[] = new Array(planned.length);
  let counter = 0;
  for (const i of order) {
    const op = planned[i];
    const now = current.get(op.key) ?? null;
    const takesEffect = op.status === 'ok' || op.applied;
    const base = { p: op.p, call: op.call, ret: op.ret, status: op.status };
    if (op.f === 'read') {
      specs[i] = { ...base, input: { f: 'read', key: op.key }, ...(op.status === 'ok' ? { output: now } : {}) };
      continue;
    }
    const value = o.values === undefined ? `v${++counter}` : `v${rng.int(1, o.values)}`;
    const history = written.get(op.key) ?? [];
    written.set(op.key, [...history, value]);
    if (op.f === 'write') {
      if (takesEffect) current.set(op.key, value);
      specs[i] = { ...base, input: { f: 'write', key: op.key, value } };
      continue;
    }
    const expect = rng.chance(0.6) || history.length === 0 ? now : rng.pick<RegisterValue | null>([null, ...history]);
    const swaps = now === expect;
    if (takesEffect && swaps) current.set(op.key, value);
    specs[i] = { ...base, input: { f: 'cas', key: op.key, expect, value }, ...(op.status === 'ok' ? { output: swaps } : {}) };
  }
  return specs;
}

/** Did this operation definitely change its register? */
function definiteWrite(s: KeyedSpec): boolean {
  return (s.status ?? 'ok') === 'ok' && (s.input.f === 'write' || (s.input.f === 'cas' && s.output === true));
}

function okReads(specs: readonly KeyedSpec[]): number[] {
  return specs.flatMap((s, i) => ((s.status ?? 'ok') === 'ok' && s.input.f === 'read' ? [i] : []));
}

function withOutput(specs: readonly KeyedSpec[], i: number, output: RegisterValue | null): KeyedSpec[] {
  const copy = [...specs];
  copy[i] = { ...specs[i], output };
  return copy;
}

/**
 * Makes one read return a value that was definitely overwritten before the read began:
 * w1 finished before w2 started, w2 finished before the read started (or: null, after
 * some write finished). With unique values no linearization can explain it.
 */
export function mutateStaleRead(rng: Rng, specs: readonly KeyedSpec[]): KeyedSpec[] | null {
  const reads = okReads(specs);
  // Visit reads in random order; the first with a stale candidate is mutated.
  for (let i = reads.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [reads[i], reads[j]] = [reads[j], reads[i]];
  }
  for (const r of reads) {
    const rs = specs[r];
    const before = specs.filter((s) => s.input.key === rs.input.key && definiteWrite(s) && (s.ret as number) < rs.call);
    if (before.length === 0) continue;
    const lastStart = Math.max(...before.map((s) => s.call));
    const stale: (RegisterValue | null)[] = rs.output === null ? [] : [null];
    for (const w1 of before) {
      // Some w2 in `before` started after w1 finished: w1's value was overwritten.
      if ((w1.ret as number) < lastStart && w1.input.f !== 'read' && w1.input.value !== rs.output) stale.push(w1.input.value);
    }
    if (stale.length > 0) return withOutput(specs, r, rng.pick(stale));
  }
  return null;
}

/** Makes one read return a value nobody ever wrote. */
export function mutateGhostRead(rng: Rng, specs: readonly KeyedSpec[]): KeyedSpec[] | null {
  const reads = okReads(specs);
  return reads.length === 0 ? null : withOutput(specs, rng.pick(reads), 'ghost');
}

/** Makes one read return some other value of its key (or null): often, not always, wrong. */
export function mutateOtherRead(rng: Rng, specs: readonly KeyedSpec[]): KeyedSpec[] | null {
  const reads = okReads(specs);
  if (reads.length === 0) return null;
  const r = rng.pick(reads);
  const key = specs[r].input.key;
  const values = [null, ...specs.flatMap((s) => (s.input.key === key && s.input.f !== 'read' ? [s.input.value] : []))];
  const others = values.filter((v) => v !== specs[r].output);
  return others.length === 0 ? null : withOutput(specs, r, rng.pick(others));
}
