// The checker's entry points: drop failed operations, split the history with the
// model's partition (per key), search each part within a budget, and give one verdict.

import { toOperations } from './history.js';
import type { HistoryEvent, Operation } from './history.js';
import type { Model } from './model.js';
import { searchLinearization } from './wgl.js';
import { makeWitness } from './witness.js';
import type { Witness } from './witness.js';

export interface CheckOptions {
  /** Search steps allowed per part before the verdict is 'unknown'. Default 5,000,000. */
  readonly maxSteps?: number;
  /** Wall-clock limit for the whole check, in ms. Default 60,000. */
  readonly timeoutMs?: number;
}

export type CheckResult<Input, Output> =
  | { readonly valid: true }
  | { readonly valid: false; readonly key?: string; readonly witness: Witness<Input, Output> }
  | { readonly valid: 'unknown'; readonly reason: string };

export const DEFAULT_MAX_STEPS = 5_000_000;
export const DEFAULT_TIMEOUT_MS = 60_000;

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(typeof v === 'number' && v > 0 && !Number.isNaN(v))) throw new Error(`${name} must be a positive number, got ${v}`);
  return v;
}

/** Checks operations (as toOperations gives them) against a model. */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  const maxSteps = positive('maxSteps', options.maxSteps, DEFAULT_MAX_STEPS);
  const deadline = performance.now() + positive('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
  // A failed operation definitely did not happen: it constrains nothing.
  const live = ops.filter((op) => op.status !== 'fail');
  const parts = model.partition !== undefined ? model.partition(live) : [live];
  assertDisjoint(parts);

  let undecided: string | null = null;
  for (const part of parts) {
    if (part.length === 0) continue;
    const key = model.keyOf?.(part[0].input);
    const outcome = searchLinearization(model, part, { maxSteps, deadline });
    if (outcome.kind === 'violation') {
      const witness = makeWitness(model, part, outcome.prefix, outcome.stuck, outcome.state, key);
      return key === undefined ? { valid: false, witness } : { valid: false, key, witness };
    }
    // Keep going: a later part may still show a definite violation.
    if (outcome.kind === 'exhausted' && undecided === null) {
      undecided = key === undefined ? outcome.reason : `key ${JSON.stringify(key)}: ${outcome.reason}`;
    }
  }
  return undecided === null ? { valid: true } : { valid: 'unknown', reason: undecided };
}

/** Checks a recorded history (invocation and completion events) against a model. */
export function checkHistory<State, Input, Output>(
  model: Model<State, Input, Output>,
  events: readonly HistoryEvent<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  return checkOperations(model, toOperations(events), options);
}

function assertDisjoint<I, O>(parts: readonly (readonly Operation<I, O>[])[]): void {
  const ids = new Set<number>();
  for (const part of parts) {
    for (const op of part) {
      if (ids.has(op.id)) throw new Error(`model.partition put op ${op.id} in two parts`);
      ids.add(op.id);
    }
  }
}
