// Turning checker results into one verdict per check, and the run's summary line.
import type { ExactlyOnceResult } from './checker/exactly-once.js';
import { type CheckResult, type HistoryEvent, type KeyedRegisterInput, type RegisterOutput, type SetCheckResult, type SetInput, type SetOutput } from './checker/index.js';

export interface Verdict {
  readonly check: string;
  /** true: holds; false: violated; 'unknown': could not be decided (counts as not passing). */
  readonly valid: boolean | 'unknown';
  readonly detail: string;
}

export function registerVerdict(r: CheckResult<KeyedRegisterInput, RegisterOutput>): Verdict {
  if (r.valid === true) return { check: 'register linearizable', valid: true, detail: 'every key linearizable' };
  if (r.valid === 'unknown') return { check: 'register linearizable', valid: 'unknown', detail: r.reason };
  return { check: 'register linearizable', valid: false, detail: r.witness.summary };
}

export function setVerdict(name: string, r: SetCheckResult<string> | null, why?: string): Verdict {
  if (r === null) return { check: name, valid: 'unknown', detail: why ?? 'no successful final read' };
  const parts = [`${r.acknowledged} acknowledged, ${r.attempted} attempted, ${r.recovered.length} unknown adds present`];
  for (const [label, xs] of [['lost', r.lost], ['unexpected', r.unexpected], ['failed but present', r.failedButPresent], ['duplicated', r.duplicated]] as const) {
    if (xs.length) parts.push(`${label} ${xs.length}: ${xs.slice(0, 10).join(', ')}${xs.length > 10 ? ', …' : ''}`);
  }
  return { check: name, valid: r.valid, detail: parts.join('; ') };
}

export function exactlyOnceVerdict(r: ExactlyOnceResult): Verdict {
  const per = r.counters.map((c) => `${c.counter}: final ${c.final ?? '?'}, ${c.acknowledged} acknowledged, ${c.attempted} attempted${c.problems.length ? ` — ${c.problems.join('; ')}` : ''}`);
  return { check: 'exactly-once counters', valid: r.valid, detail: `${r.retried} adds retried after an unknown outcome, ${r.repeated} sent twice on purpose; ${per.join(' | ')}` };
}

export interface OpCounts {
  ops: number;
  ok: number;
  unknown: number;
}

/** Completed operations of a history, by status (final reads not included by the caller). */
export function countOps<I, O>(events: readonly HistoryEvent<I, O>[]): OpCounts {
  const c = { ops: 0, ok: 0, unknown: 0 };
  for (const e of events) {
    if (e.kind === 'invoke') c.ops++;
    else if (e.kind === 'ok') c.ok++;
    else if (e.kind === 'info') c.unknown++;
  }
  return c;
}

/** The adds, plus the final reads of one process only (null: no final read). */
export function setEventsWith(events: readonly HistoryEvent<SetInput<string>, SetOutput<string>>[], readProcess: string | null): HistoryEvent<SetInput<string>, SetOutput<string>>[] {
  return events.filter((e) => !String(e.process).startsWith('final-') || e.process === readProcess);
}
