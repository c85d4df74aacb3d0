// The exactly-once workload: workers add 1 to a few cluster counters through the gateway
// (POST /v1/counters/:name), each add with its own (client id, sequence). After a
// timeout, a lost connection or a 5xx, a worker sends the same add again, with the same
// pair, until it gets a definite answer; an add that never gets one by the retry deadline
// is recorded as unknown. One first attempt in ten times out after 1-30 ms on purpose
// (the answer is lost, the add may have been applied). One acknowledged add in four is sent once more on purpose (a
// duplicated request: what a client that lost the answer, or a proxy that replays a
// request, would send), and every answer to an add is recorded. After heal, a final
// read of each counter. The check is checker/exactly-once.ts.
//
// Teeth (fresh-seq): the worker re-sends with a fresh sequence instead of its own, as a
// client that forgot exactly-once would; the run must end INVALID.
import { HistoryRecorder } from '../checker/index.js';
import type { ExactlyOnceInput, ExactlyOnceOutput } from '../checker/exactly-once.js';
import { prng } from '../../helpers/prng.js';
import type { GatewayTarget } from './gateway-client.js';
import { think, type WorkloadContext } from './context.js';

export type ExactlyOnceHistory = HistoryRecorder<ExactlyOnceInput, ExactlyOnceOutput>;

export interface ExactlyOnceOptions {
  /** Re-send adds with a fresh sequence (breaks exactly-once on purpose; teeth only). */
  readonly freshSeq?: boolean;
  /** How long after the end of the run an add may still be retried for a definite answer. */
  readonly retryGraceMs?: number;
}

const COUNTERS = 2;
const DUPLICATE_EVERY = 4;
const IMPATIENT_SHARE = 0.1;
const DEFAULT_RETRY_GRACE_MS = 60_000;

export function counterNames(ctx: { seed: number; prefix: string }): string[] {
  // The prefix is unique per run; counter names allow no '/'.
  const run = ctx.prefix.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(-40);
  return Array.from({ length: COUNTERS }, (_, i) => `eo-${run}-c${i}`);
}

type Answer = { kind: 'value'; value: number } | { kind: 'refused'; error: string } | { kind: 'unknown'; error: string } | { kind: 'session'; error: string };

/** Refusals that happen before anything is forwarded: nothing was applied by this attempt. */
const DEFINITE_REFUSALS = new Set([400, 401, 403, 413, 415, 429]);

async function postAdd(g: GatewayTarget, counter: string, clientId: string, seq: number, timeoutMs = g.timeoutMs): Promise<Answer> {
  try {
    const res = await fetch(`${g.url}/v1/counters/${encodeURIComponent(counter)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${g.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId, seq }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: { value?: unknown; error?: { code?: string } } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: an answer from something other than the gateway's routes
    }
    const code = `${res.status} ${body.error?.code ?? ''}`.trim();
    if (res.status === 200 && typeof body.value === 'number') return { kind: 'value', value: body.value };
    if (res.status === 409) return { kind: 'session', error: code };
    if (DEFINITE_REFUSALS.has(res.status)) return { kind: 'refused', error: code };
    return { kind: 'unknown', error: code };
  } catch (err) {
    const e = err as Error;
    const cause = e.cause as (Error & { code?: string }) | undefined;
    return { kind: 'unknown', error: e.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : `${e.name}: ${cause?.message ?? e.message}` };
  }
}

export async function runExactlyOnceWorkload(ctx: WorkloadContext, history: ExactlyOnceHistory, opts: ExactlyOnceOptions = {}): Promise<void> {
  await Promise.all(Array.from({ length: ctx.workers }, (_, w) => worker(ctx, history, w, opts)));
}

async function worker(ctx: WorkloadContext, h: ExactlyOnceHistory, w: number, opts: ExactlyOnceOptions): Promise<void> {
  const rand = prng(ctx.seed * 41 + w + 2001);
  const names = counterNames(ctx);
  const clientId = `w${w}-${ctx.seed}-${Date.now().toString(36)}`;
  const proc = `e${w}`;
  const retryUntil = ctx.until + (opts.retryGraceMs ?? DEFAULT_RETRY_GRACE_MS);
  // The session's next sequence: one add at a time, each with a higher one.
  let nextSeq = 1;
  for (let i = 0; i < 1_000_000 && ctx.clock() < ctx.until; i++) {
    const counter = names[Math.floor(rand() * names.length)]!;
    const seq = nextSeq++;
    const op = h.invoke(proc, { f: 'add', counter, clientId, seq });
    const values: number[] = [];
    let lastError = '';
    let refusedOnly = true;
    let attempts = 0;
    for (let attempt = 0; ; attempt++) {
      attempts++;
      // The teeth: every attempt after the first is a new add under a fresh sequence.
      const sent = opts.freshSeq && attempt > 0 ? nextSeq++ : seq;
      // One first attempt in ten gives up after a few ms, as an impatient client would: the
      // add may well be applied, and the retry must find its answer, faults or not.
      const impatient = attempt === 0 && rand() < IMPATIENT_SHARE ? 1 + Math.floor(rand() * 30) : undefined;
      const a = await postAdd(ctx.gateway, counter, clientId, sent, impatient);
      if (a.kind === 'value') {
        values.push(a.value);
        break;
      }
      lastError = a.error;
      if (a.kind === 'session') {
        refusedOnly = false;
        break;
      }
      if (a.kind === 'unknown') refusedOnly = false;
      // A refusal other than the rate limit will not change by asking again.
      if (a.kind === 'refused' && !a.error.startsWith('429')) break;
      if (ctx.clock() >= retryUntil) break;
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** Math.min(attempt, 4))));
    }
    if (values.length > 0) {
      // A duplicated request: the same add once more; its answer must be the same value.
      if (rand() * DUPLICATE_EVERY < 1 || opts.freshSeq) {
        const again = await postAdd(ctx.gateway, counter, clientId, opts.freshSeq ? nextSeq++ : seq);
        if (again.kind === 'value') values.push(again.value);
      }
      h.ok(op, { values, attempts });
    } else if (refusedOnly) h.fail(op, lastError);
    else h.info(op, lastError);
    await think(rand, 10, 40);
  }
}

/** A linearizable read of every counter, each retried until it succeeds or `untilMs` passes. */
export async function finalCounterReads(ctx: { seed: number; prefix: string; gateway: GatewayTarget; clock: () => number }, h: ExactlyOnceHistory, untilMs: number): Promise<boolean> {
  let all = true;
  for (const counter of counterNames(ctx)) {
    let done = false;
    for (let attempt = 0; attempt < 1000 && !done && ctx.clock() < untilMs; attempt++) {
      const op = h.invoke(`final-${counter}`, { f: 'read', counter });
      try {
        const res = await fetch(`${ctx.gateway.url}/v1/counters/${encodeURIComponent(counter)}`, {
          headers: { authorization: `Bearer ${ctx.gateway.token}` }, signal: AbortSignal.timeout(ctx.gateway.timeoutMs),
        });
        const body = (await res.json().catch(() => ({}))) as { value?: unknown; error?: { code?: string } };
        if (res.status === 200 && typeof body.value === 'number') {
          h.ok(op, { value: body.value });
          done = true;
          continue;
        }
        h.fail(op, `${res.status} ${body.error?.code ?? ''}`.trim());
      } catch (err) {
        h.fail(op, (err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    all &&= done;
  }
  return all;
}
