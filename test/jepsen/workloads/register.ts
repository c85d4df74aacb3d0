// The register workload: workers read, write and compare-and-set a few keys through the
// gateway. Every write carries a value never used before, so the version a read returns
// (its ETag) stands for the value read, and a CAS with If-Match on that version is a CAS
// on that value in the model. Keys are replaced by fresh ones every few seconds, so each
// key's history stays small enough to check.
import { HistoryRecorder, type KeyedRegisterInput, type RegisterOutput } from '../checker/index.js';
import { prng } from '../../helpers/prng.js';
import { readObject, writeObject, type Outcome, type ReadResult } from './gateway-client.js';
import { think, type WorkloadContext } from './context.js';

export type RegisterHistory = HistoryRecorder<KeyedRegisterInput, RegisterOutput>;

const KEYS_PER_GENERATION = 3;
const KEY_LIFETIME_MS = 10_000;

export async function runRegisterWorkload(ctx: WorkloadContext, history: RegisterHistory): Promise<void> {
  const start = ctx.clock();
  await Promise.all(Array.from({ length: ctx.workers }, (_, w) => worker(ctx, history, w, start)));
}

async function worker(ctx: WorkloadContext, h: RegisterHistory, w: number, start: number): Promise<void> {
  const rand = prng(ctx.seed * 31 + w + 1);
  // After an unknown outcome a worker continues as a new process: the old one may still be running.
  let incarnation = 0;
  const proc = (): string => `r${w}.${incarnation}`;
  const seen = new Map<string, ReadResult>();
  let written = 0;
  for (let i = 0; i < 1_000_000 && ctx.clock() < ctx.until; i++) {
    const gen = Math.floor((ctx.clock() - start) / KEY_LIFETIME_MS);
    const key = `${ctx.prefix}register/g${gen}-k${Math.floor(rand() * KEYS_PER_GENERATION)}`;
    const r = rand();
    const last = seen.get(key);
    let outcome: Outcome<unknown>;
    if (r < 0.4 || (r >= 0.7 && last === undefined)) {
      const op = h.invoke(proc(), { f: 'read', key });
      const res = await readObject(ctx.gateway, key);
      outcome = res;
      if (res.kind === 'ok') {
        h.ok(op, res.value.value);
        seen.set(key, res.value);
      } else record(h, op, res);
    } else {
      const value = `w${w}-${written++}`;
      // Whatever happens, what this worker last read of the key is no longer current.
      seen.delete(key);
      if (r < 0.7) {
        const op = h.invoke(proc(), { f: 'write', key, value });
        const res = await writeObject(ctx.gateway, key, value, null);
        outcome = res;
        if (res.kind === 'ok') h.ok(op, undefined);
        else record(h, op, res);
      } else {
        const expect = last!.value;
        const op = h.invoke(proc(), { f: 'cas', key, expect, value });
        const res = await writeObject(ctx.gateway, key, value, expect === null ? { ifNoneMatch: true } : { ifMatch: last!.version! });
        outcome = res;
        if (res.kind === 'ok') h.ok(op, res.value);
        else record(h, op, res);
      }
    }
    if (outcome.kind === 'unknown') incarnation++;
    await think(rand, 20, 60);
  }
}

function record(h: RegisterHistory, op: number, res: { kind: 'fail' | 'unknown'; error: string }): void {
  if (res.kind === 'fail') h.fail(op, res.error);
  else h.info(op, res.error);
}
