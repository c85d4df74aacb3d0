// The exactly-once workload's check. Clients add 1 to cluster counters, each add with
// its own (client id, sequence), retried with that same pair after timeouts, 5xx and
// failovers until it gets a definite answer; some acknowledged adds are sent once more
// on purpose (a duplicated request). Then one final read per counter, after heal.
//
// With every delta 1, an add applied once takes exactly one value of 1..final, so:
// - every answer to one add (its retries and its duplicate) is the same value;
// - no two adds of a counter were answered the same value;
// - acknowledged <= final <= attempted (an add that definitely failed is not attempted),
//   and no acknowledged value exceeds the final value.
// An add applied twice breaks one of these: either its retries were answered different
// values, or the final value counts more adds than were ever attempted.

import type { HistoryEvent } from './history.js';

export type ExactlyOnceInput =
  | { readonly f: 'add'; readonly counter: string; readonly clientId: string; readonly seq: number }
  | { readonly f: 'read'; readonly counter: string };
/**
 * add: every value an answer to it carried, in order (at least one when ok), and how many
 * times it was sent before the first answer (retries after unknown outcomes); read: the value.
 */
export type ExactlyOnceOutput = { readonly values: readonly number[]; readonly attempts?: number } | { readonly value: number };

export interface CounterCheck {
  readonly counter: string;
  readonly valid: boolean | 'unknown';
  readonly final: number | null;
  readonly acknowledged: number;
  /** Adds that may have been applied: acknowledged or unknown. */
  readonly attempted: number;
  readonly problems: string[];
}

export interface ExactlyOnceResult {
  readonly valid: boolean | 'unknown';
  readonly counters: CounterCheck[];
  readonly acknowledged: number;
  readonly attempted: number;
  /** Acknowledged adds that were answered more than once (a duplicated request). */
  readonly repeated: number;
  /** Acknowledged adds that were sent again after an unknown outcome before they got an answer. */
  readonly retried: number;
}

interface AddOp {
  readonly id: number;
  readonly counter: string;
  readonly session: string;
  status: 'pending' | 'ok' | 'fail' | 'info';
  values: readonly number[];
  attempts: number;
  error?: string;
}

/** Answers meta gives only when a session moved past a sequence: never, if adds run one at a time per client. */
const SESSION_REFUSALS = /stale-sequence|sequence-reused/;

const MAX_LISTED = 5;

export function checkExactlyOnce(events: readonly HistoryEvent<ExactlyOnceInput, ExactlyOnceOutput>[]): ExactlyOnceResult {
  const adds = new Map<number, AddOp>();
  const reads = new Map<number, string>();
  const finals = new Map<string, { value: number; at: number }>();
  const sessions = new Map<string, number>();
  const structural: string[] = [];
  for (const e of events) {
    if (e.kind === 'invoke') {
      if (e.input.f === 'add') {
        const session = `${e.input.counter}\0${e.input.clientId}\0${e.input.seq}`;
        // One add per (client, seq): the workload must never reuse a pair for a new add.
        if (sessions.has(session)) structural.push(`client ${e.input.clientId} used sequence ${e.input.seq} for two adds (ops ${sessions.get(session)} and ${e.op})`);
        sessions.set(session, e.op);
        adds.set(e.op, { id: e.op, counter: e.input.counter, session, status: 'pending', values: [], attempts: 1 });
      } else reads.set(e.op, e.input.counter);
      continue;
    }
    const add = adds.get(e.op);
    if (add !== undefined) {
      add.status = e.kind;
      if (e.error !== undefined) add.error = e.error;
      if (e.kind === 'ok') {
        const out = e.output as { values: readonly number[]; attempts?: number } | undefined;
        add.values = out?.values ?? [];
        add.attempts = out?.attempts ?? 1;
      }
      continue;
    }
    const counter = reads.get(e.op);
    if (counter !== undefined && e.kind === 'ok') {
      const value = (e.output as { value: number }).value;
      const prev = finals.get(counter);
      if (prev === undefined || e.time >= prev.at) finals.set(counter, { value, at: e.time });
    }
  }

  const byCounter = new Map<string, AddOp[]>();
  for (const a of adds.values()) {
    const list = byCounter.get(a.counter) ?? [];
    list.push(a);
    byCounter.set(a.counter, list);
  }
  for (const c of finals.keys()) if (!byCounter.has(c)) byCounter.set(c, []);

  const counters: CounterCheck[] = [];
  let repeated = 0;
  let retried = 0;
  for (const [counter, ops] of [...byCounter.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const problems: string[] = [];
    const acked = ops.filter((o) => o.status === 'ok');
    const attempted = ops.filter((o) => o.status !== 'fail').length;
    const owner = new Map<number, number>();
    const mismatched: string[] = [];
    const duplicates: string[] = [];
    for (const o of acked) {
      if (o.values.length === 0) {
        problems.push(`op ${o.id} acknowledged without a value`);
        continue;
      }
      if (o.values.length > 1) repeated++;
      if (o.attempts > 1) retried++;
      const first = o.values[0]!;
      if (o.values.some((v) => v !== first)) mismatched.push(`op ${o.id} (${o.session.split('\0').slice(1).join(' seq ')}) answered ${o.values.join(', ')}`);
      for (const v of new Set(o.values)) {
        if (!Number.isSafeInteger(v) || v < 1) problems.push(`op ${o.id} answered ${v}`);
        const other = owner.get(v);
        if (other !== undefined && other !== o.id) duplicates.push(`value ${v} answered to ops ${other} and ${o.id}`);
        else owner.set(v, o.id);
      }
    }
    const refused = ops.filter((o) => o.error !== undefined && SESSION_REFUSALS.test(o.error)).map((o) => `op ${o.id}: ${o.error}`);
    if (refused.length) problems.push(`meta refused a retry of an add's own sequence: ${list(refused)}`);
    if (mismatched.length) problems.push(`retries of one add answered different values: ${list(mismatched)}`);
    if (duplicates.length) problems.push(`two adds answered the same value: ${list(duplicates)}`);
    const final = finals.get(counter)?.value ?? null;
    if (final !== null) {
      if (final < acked.length) problems.push(`final value ${final} is below the ${acked.length} acknowledged adds (an add was lost)`);
      if (final > attempted) problems.push(`final value ${final} exceeds the ${attempted} adds attempted (an add was applied twice)`);
      const above = [...owner.keys()].filter((v) => v > final).sort((a, b) => a - b);
      if (above.length) problems.push(`acknowledged values above the final value ${final}: ${list(above.map(String))}`);
    }
    const valid = problems.length > 0 ? false : final === null ? 'unknown' : true;
    if (final === null && problems.length === 0) problems.push('no successful final read');
    counters.push({ counter, valid, final, acknowledged: acked.length, attempted, problems });
  }
  if (structural.length) counters.push({ counter: '(history)', valid: false, final: null, acknowledged: 0, attempted: 0, problems: structural });
  const valid = counters.some((c) => c.valid === false) ? false : counters.some((c) => c.valid === 'unknown') || counters.length === 0 ? 'unknown' : true;
  return {
    valid,
    counters,
    acknowledged: counters.reduce((n, c) => n + c.acknowledged, 0),
    attempted: counters.reduce((n, c) => n + c.attempted, 0),
    repeated,
    retried,
  };
}

function list(xs: readonly string[]): string {
  return xs.slice(0, MAX_LISTED).join('; ') + (xs.length > MAX_LISTED ? `; … (${xs.length} in all)` : '');
}
