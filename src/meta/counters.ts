// Cluster counters: named, monotonically increasing integers held in the meta state,
// for allocating numbers that must never repeat (catalogue numbers, batch ids). The only
// command is `counter-add {name, delta}`: it adds delta (>= 1) and answers the new
// value (with the name and delta it applied, so a reused sequence can be told apart). It is not idempotent, so it relies on meta's client sessions for exactly once:
// a retry with the same (client id, sequence) gets the recorded answer, not a second add.
//
// The table is shared between a state and the next one (draftOf does not copy it): only
// counterAdd changes it, and it always builds a new, frozen table, so an earlier state
// never sees a later add.

import type { Command } from './commands.js';
import { reject, invariant } from './errors.js';
import type { Reader } from './fields.js';
import type { MetaState } from './types.js';
import { settingsOf } from './view.js';

/** How many counters a cluster may hold: each is kept in every snapshot and every member's memory. */
export const MAX_COUNTERS = 10_000;
/** The largest step of one add (the value itself may grow to Number.MAX_SAFE_INTEGER). */
export const MAX_COUNTER_DELTA = 1_000_000;
/** 1–64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit (no "__proto__"). */
export const COUNTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The client id a caller names its counter session with (the gateway's rule; a UUID fits). */
export const COUNTER_CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export type Counters = Readonly<Record<string, number>>;

/** What a counter-add answers: the add it applied (a retry of the same sequence gets the same). */
export interface CounterResult {
  readonly name: string;
  readonly delta: number;
  readonly value: number;
}

type CounterAdd = Extract<Command, { type: 'counter-add' }>;

export function isCounterName(name: unknown): name is string {
  return typeof name === 'string' && COUNTER_NAME.test(name);
}

/** The fields of a counter-add command (validateCommand calls this). */
export function readCounterAdd(r: Reader): { name: string; delta: number } {
  r.only(['type', 'name', 'delta']);
  const name = r.printable('name', 64);
  if (!COUNTER_NAME.test(name)) r.fail('name', 'must be 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit');
  return { name, delta: r.int('delta', 1, MAX_COUNTER_DELTA) };
}

/** The value of a counter; 0 for one never added to. */
export function counterValue(counters: Counters, name: string): number {
  return Object.hasOwn(counters, name) ? (counters[name] as number) : 0;
}

export function counterAdd(state: MetaState, cmd: CounterAdd): { counter: CounterResult } {
  settingsOf(state);
  const known = Object.hasOwn(state.counters, cmd.name);
  if (!known && Object.keys(state.counters).length >= MAX_COUNTERS) {
    reject('limit-exceeded', `counter "${cmd.name}": the cluster already holds ${MAX_COUNTERS} counters`);
  }
  const value = counterValue(state.counters, cmd.name) + cmd.delta;
  if (!Number.isSafeInteger(value)) reject('limit-exceeded', `counter "${cmd.name}" would pass ${Number.MAX_SAFE_INTEGER}`);
  state.counters = Object.freeze({ ...state.counters, [cmd.name]: value });
  return { counter: { name: cmd.name, delta: cmd.delta, value } };
}

export function checkCounters(state: MetaState): void {
  const names = Object.keys(state.counters);
  invariant(names.length <= MAX_COUNTERS, `${names.length} counters exceed ${MAX_COUNTERS}`);
  invariant(state.settings !== null || names.length === 0, 'an uninitialized cluster has no counters');
  for (const name of names) {
    const v = state.counters[name];
    invariant(COUNTER_NAME.test(name), `counter name ${JSON.stringify(name)} breaks the naming rule`);
    invariant(Number.isSafeInteger(v) && (v as number) >= 1, `counter ${name} holds ${String(v)}`);
  }
}

/** Counters never disappear and never go down. */
export function checkCounterTransition(before: MetaState, after: MetaState): void {
  if (before.counters === after.counters) return;
  for (const [name, v] of Object.entries(before.counters)) {
    invariant(Object.hasOwn(after.counters, name), `counter ${name} disappeared`);
    invariant((after.counters[name] as number) >= v, `counter ${name} went back from ${v} to ${after.counters[name]}`);
  }
}

/** The counters of a decoded snapshot; absent in snapshots taken before counters existed. */
export function countersOfSnapshot(input: unknown): Counters {
  if (input === undefined) return Object.freeze({});
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('meta snapshot: counters must be an object');
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(input as Record<string, unknown>)) {
    if (!COUNTER_NAME.test(name)) throw new Error(`meta snapshot: counter name ${JSON.stringify(name)} breaks the naming rule`);
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new Error(`meta snapshot: counters.${name} must be a positive integer`);
    out[name] = v as number;
  }
  return Object.freeze(out);
}
