// The durability workload: workers write records of random content (each key once) and
// note every outcome. With the `crash` and `storage` nemeses every process is killed -9 at
// random points and files are damaged before restarts; after the last heal every record
// written is read back: each acknowledged one must be there, byte for byte.
import { prng, randomInt } from '../../helpers/prng.js';
import { DURABILITY_CONTENT_TYPE } from '../nemesis/storage-damage.js';
import { readObject, writeObject, type GatewayTarget } from './gateway-client.js';
import { think, type WorkloadContext } from './context.js';

export interface DurabilityWrite {
  readonly key: string;
  readonly value: string;
  readonly outcome: 'ok' | 'fail' | 'unknown';
  readonly error?: string;
  /** On the history's clock. */
  readonly at: number;
}

/** What the final read found for a key: its value (null: absent), or why it could not be read. */
export type FinalValue = { readonly value: string | null } | { readonly error: string };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Random printable content of 16 B to 3 KiB: what is read back must equal it exactly. */
export function recordValue(rand: () => number, key: string): string {
  const n = randomInt(rand, 16, 3072);
  let out = `${key}:`;
  for (let i = 0; i < n; i++) out += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return out;
}

export function durabilityKey(prefix: string, element: string): string {
  return `${prefix}durability/${element}`;
}

export async function runDurabilityWorkload(ctx: WorkloadContext, writes: DurabilityWrite[]): Promise<void> {
  await Promise.all(Array.from({ length: ctx.workers }, async (_, w) => {
    const rand = prng(ctx.seed * 41 + w + 2001);
    for (let i = 0; i < 1_000_000 && ctx.clock() < ctx.until; i++) {
      const key = durabilityKey(ctx.prefix, `d${w}-${i}`);
      const value = recordValue(rand, key);
      const at = ctx.clock();
      const res = await writeObject(ctx.gateway, key, value, null, DURABILITY_CONTENT_TYPE);
      writes.push(res.kind === 'ok' ? { key, value, outcome: 'ok', at } : { key, value, outcome: res.kind, error: res.error, at });
      // While the cluster is down, a worker asks a few times a second, not a hundred.
      await think(rand, res.kind === 'ok' ? 10 : 200, res.kind === 'ok' ? 40 : 400);
    }
  }));
}

/**
 * Reads every written key back, each until it answers (a 5xx, e.g. a value found rotten and
 * refused while it is being repaired, is asked again) or `untilMs` passes.
 */
export async function readBackAll(ctx: { gateway: GatewayTarget; clock: () => number }, writes: readonly DurabilityWrite[], untilMs: number): Promise<Map<string, FinalValue>> {
  const out = new Map<string, FinalValue>();
  const queue = [...new Set(writes.map((w) => w.key))];
  const reader = async (): Promise<void> => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      for (;;) {
        const res = await readObject(ctx.gateway, key);
        if (res.kind === 'ok') {
          out.set(key, { value: res.value.value });
          break;
        }
        if (ctx.clock() >= untilMs) {
          out.set(key, { error: res.error });
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, reader));
  return out;
}

export interface DurabilityResult {
  /** false: a violation; 'unknown': some keys could not be read at all. */
  readonly valid: boolean | 'unknown';
  readonly acknowledged: number;
  readonly attempted: number;
  /** Acknowledged, read back absent. */
  readonly lost: string[];
  /** Read back with content nobody wrote to that key. */
  readonly corrupted: string[];
  /** Definitely failed, yet present. */
  readonly failedButPresent: string[];
  /** Unknown outcome, present with the value written. */
  readonly unknownPresent: number;
  readonly unreadable: string[];
}

/** Every acknowledged write present and byte-equal; nothing present that was not written. */
export function checkDurability(writes: readonly DurabilityWrite[], reads: ReadonlyMap<string, FinalValue>): DurabilityResult {
  const lost: string[] = [];
  const corrupted: string[] = [];
  const failedButPresent: string[] = [];
  const unreadable: string[] = [];
  let unknownPresent = 0;
  let acknowledged = 0;
  const byKey = new Map<string, DurabilityWrite>();
  for (const w of writes) {
    if (byKey.has(w.key)) throw new Error(`key ${w.key} written twice: the workload writes each key once`);
    byKey.set(w.key, w);
  }
  for (const w of byKey.values()) {
    if (w.outcome === 'ok') acknowledged++;
    const r = reads.get(w.key);
    if (r === undefined || 'error' in r) {
      unreadable.push(w.key);
      continue;
    }
    if (r.value === null) {
      if (w.outcome === 'ok') lost.push(w.key);
      continue;
    }
    if (r.value !== w.value) corrupted.push(w.key);
    else if (w.outcome === 'fail') failedButPresent.push(w.key);
    else if (w.outcome === 'unknown') unknownPresent++;
  }
  const violated = lost.length + corrupted.length + failedButPresent.length > 0;
  return {
    valid: violated ? false : unreadable.length > 0 ? 'unknown' : true,
    acknowledged, attempted: byKey.size, lost, corrupted, failedButPresent, unknownPresent, unreadable,
  };
}
