// Teeth: deliberate breakage, applied by the harness after the workloads stop and before
// the final reads, that the checks must catch. Each one changes the cluster's data
// behind the history's back, as a buggy store would, and goes through the same
// clients, histories, checker and verdicts as a normal run. Never used unless asked for
// (`--teeth`); a run with teeth must end INVALID.
import type { RegisterHistory } from './workloads/register.js';
import { setKey, type SetHistory } from './workloads/set.js';
import { deleteObject, readObject, writeObject, type GatewayTarget } from './workloads/gateway-client.js';

/**
 * lose-ack: one acknowledged set add is deleted without being recorded (a lost write);
 * phantom-write: a register key gets a value no recorded operation wrote, and a recorded
 * read then observes it (a value out of nowhere, as a stale or corrupt replica gives);
 * fresh-seq: during the run, the exactly-once workload re-sends an add (its retries and
 * its deliberate duplicate) under a fresh sequence instead of its own, so meta applies it
 * again (workloads/exactly-once.ts).
 */
export type Tooth = 'lose-ack' | 'phantom-write' | 'fresh-seq';
export const TEETH: readonly Tooth[] = ['lose-ack', 'phantom-write', 'fresh-seq'];

interface TeethContext {
  readonly gateway: GatewayTarget;
  readonly prefix: string;
  readonly seed: number;
  readonly clock: () => number;
}

const ATTEMPTS = 20;

async function retry<T>(what: string, attempt: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const got = await attempt();
    if (got !== null) return got;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`teeth: could not ${what} in ${ATTEMPTS} attempts`);
}

/** Deletes the last acknowledged add; returns its element. */
export async function loseAcknowledgedAdd(ctx: TeethContext, h: SetHistory): Promise<string> {
  const acked = new Set(h.events.filter((e) => e.kind === 'ok').map((e) => e.op));
  const adds = h.events.filter((e) => e.kind === 'invoke' && e.input.f === 'add' && acked.has(e.op));
  const last = adds[adds.length - 1];
  if (last === undefined || last.kind !== 'invoke' || last.input.f !== 'add') throw new Error('teeth: no acknowledged add to lose');
  const element = last.input.value;
  await retry(`delete ${element}`, async () => {
    const res = await deleteObject(ctx.gateway, setKey(ctx, element));
    return res.kind === 'ok' ? true : null;
  });
  return element;
}

/** Writes an unrecorded value to the last register key used, then records a read of it; returns the key. */
export async function phantomWrite(ctx: TeethContext, h: RegisterHistory): Promise<string> {
  const invokes = h.events.filter((e) => e.kind === 'invoke');
  const last = invokes[invokes.length - 1];
  if (last === undefined || last.kind !== 'invoke') throw new Error('teeth: no register key to write behind the history');
  const key = last.input.key;
  const value = `teeth-${ctx.seed}`;
  await retry(`write ${key}`, async () => {
    const res = await writeObject(ctx.gateway, key, value, null);
    return res.kind === 'ok' ? true : null;
  });
  await retry(`read ${key}`, async () => {
    const op = h.invoke('teeth', { f: 'read', key });
    const res = await readObject(ctx.gateway, key);
    if (res.kind === 'ok') {
      h.ok(op, res.value.value);
      return true;
    }
    h.fail(op, res.error);
    return null;
  });
  return key;
}
