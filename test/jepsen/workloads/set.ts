// The set workload: workers add unique elements, one key each. After the faults stop
// and the cluster heals, two final reads: every attempted key read back one by one, and
// a listing of the prefix. Each is checked on its own: every acknowledged add present,
// nothing present that was never written.
import { HistoryRecorder, type SetInput, type SetOutput } from '../checker/index.js';
import { prng } from '../../helpers/prng.js';
import { listKeys, readObject, writeObject, type GatewayTarget } from './gateway-client.js';
import { think, type WorkloadContext } from './context.js';

export type SetHistory = HistoryRecorder<SetInput<string>, SetOutput<string>>;
export type FinalRead = 'read-each' | 'listing';

export function setKey(ctx: { prefix: string }, element: string): string {
  return `${ctx.prefix}set/${element}`;
}

export async function runSetWorkload(ctx: WorkloadContext, history: SetHistory): Promise<void> {
  await Promise.all(Array.from({ length: ctx.workers }, (_, w) => worker(ctx, history, w)));
}

async function worker(ctx: WorkloadContext, h: SetHistory, w: number): Promise<void> {
  const rand = prng(ctx.seed * 37 + w + 1001);
  let incarnation = 0;
  for (let i = 0; i < 1_000_000 && ctx.clock() < ctx.until; i++) {
    const element = `s${w}-${i}`;
    const op = h.invoke(`s${w}.${incarnation}`, { f: 'add', value: element });
    const res = await writeObject(ctx.gateway, setKey(ctx, element), element, null);
    if (res.kind === 'ok') h.ok(op, undefined);
    else if (res.kind === 'fail') h.fail(op, res.error);
    else {
      h.info(op, res.error);
      incarnation++;
    }
    await think(rand, 10, 40);
  }
}

/** Attempted elements, from the history: the keys the final read-each looks at. */
function attempted(h: SetHistory): string[] {
  const out = new Set<string>();
  for (const e of h.events) if (e.kind === 'invoke' && e.input.f === 'add') out.add(e.input.value);
  return [...out];
}

/**
 * One final read, retried until it succeeds or `untilMs` passes; each attempt is an
 * operation in the history. Returns false if none succeeded.
 */
export async function finalRead(ctx: { prefix: string; gateway: GatewayTarget; clock: () => number }, h: SetHistory, how: FinalRead, untilMs: number): Promise<boolean> {
  for (let attempt = 0; attempt < 1000 && ctx.clock() < untilMs; attempt++) {
    const op = h.invoke(`final-${how}`, { f: 'read' });
    const got = how === 'listing' ? await readListing(ctx) : await readEach(ctx, attempted(h));
    if (got.ok) {
      h.ok(op, got.elements);
      return true;
    }
    h.fail(op, got.error);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

type Read = { ok: true; elements: string[] } | { ok: false; error: string };

async function readListing(ctx: { prefix: string; gateway: GatewayTarget }): Promise<Read> {
  const prefix = setKey(ctx, '');
  const res = await listKeys(ctx.gateway, prefix);
  if (res.kind !== 'ok') return { ok: false, error: res.error };
  return { ok: true, elements: res.value.map((k) => k.slice(prefix.length)) };
}

async function readEach(ctx: { prefix: string; gateway: GatewayTarget }, elements: string[]): Promise<Read> {
  const present: string[] = [];
  const queue = [...elements];
  let error: string | null = null;
  const reader = async (): Promise<void> => {
    for (let e = queue.shift(); e !== undefined && error === null; e = queue.shift()) {
      const res = await readObject(ctx.gateway, setKey(ctx, e));
      if (res.kind !== 'ok') error = `${e}: ${res.error}`;
      else if (res.value.value !== null) {
        // A value other than the element itself was never written: report it as such.
        present.push(res.value.value === e ? e : `${e} (holding ${JSON.stringify(res.value.value)})`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, reader));
  return error === null ? { ok: true, elements: present } : { ok: false, error };
}
