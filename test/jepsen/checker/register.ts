// Register models: one read/write/compare-and-set register, and a map of independent
// registers (one per key) that the checker splits and checks key by key.
//
// Compare-and-set is a conditional write on the *previous value*. The object store's
// If-Match compares versions (ETags); a workload that writes a unique value every time
// turns a version it read back into the value it read, so `expect` is that value. `null`
// means "absent", which is If-None-Match: *.

import { UNKNOWN } from './history.js';
import type { Operation, Unknown } from './history.js';
import type { Model, StepResult } from './model.js';

export type RegisterValue = string | number;
/** null: the register holds nothing (the key does not exist). */
export type RegisterState = RegisterValue | null;

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: RegisterValue }
  | { readonly f: 'cas'; readonly expect: RegisterValue | null; readonly value: RegisterValue };

/**
 * read: the value seen (null if absent); write: ignored; cas: true if it swapped, false
 * if the register did not hold `expect` (a 412, a definite answer, unlike status fail).
 */
export type RegisterOutput = RegisterValue | null | boolean | undefined;

export type KeyedRegisterInput = RegisterInput & { readonly key: string };

function isValue(x: unknown): x is RegisterValue {
  return typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));
}

/** The sequential register, shared by both models. */
function stepRegister(state: RegisterState, input: RegisterInput, output: RegisterOutput | Unknown): StepResult<RegisterState> {
  switch (input.f) {
    case 'read':
      if (output === UNKNOWN) return { ok: true, state };
      if (output !== null && !isValue(output)) {
        throw new Error(`a read must return a string, a number or null, got ${JSON.stringify(output)}`);
      }
      return { ok: output === state, state };
    case 'write':
      if (!isValue(input.value)) throw new Error(`write needs a string or number value, got ${JSON.stringify(input.value)}`);
      return { ok: true, state: input.value };
    case 'cas': {
      if (!isValue(input.value)) throw new Error(`cas needs a string or number value, got ${JSON.stringify(input.value)}`);
      const matches = state === input.expect;
      // Unknown outcome: if it took effect, the state decided whether it swapped.
      if (output === UNKNOWN) return { ok: true, state: matches ? input.value : state };
      if (typeof output !== 'boolean') throw new Error(`a cas must return true or false, got ${JSON.stringify(output)}`);
      return { ok: output === matches, state: output ? input.value : state };
    }
    default:
      throw new Error(`unknown register operation ${JSON.stringify(input)}`);
  }
}

function describeRegister(input: RegisterInput, output: RegisterOutput | Unknown): string {
  const out = (x: unknown): string => (x === UNKNOWN ? '?' : JSON.stringify(x));
  switch (input.f) {
    case 'read':
      return `read → ${out(output)}`;
    case 'write':
      return `write(${JSON.stringify(input.value)})${output === UNKNOWN ? ' → ?' : ''}`;
    case 'cas':
      return `cas(${JSON.stringify(input.expect)} → ${JSON.stringify(input.value)}) → ${out(output)}`;
    default:
      return JSON.stringify(input);
  }
}

/** A read with an unknown outcome changes nothing and constrains nothing. */
function matters(op: Operation<RegisterInput, RegisterOutput>): boolean {
  return !(op.input.f === 'read' && op.output === UNKNOWN);
}

/** One register, initially absent (null). */
export function registerModel(): Model<RegisterState, RegisterInput, RegisterOutput> {
  return {
    init: () => null,
    step: stepRegister,
    hash: (state) => JSON.stringify(state),
    partition: (ops) => [ops.filter(matters)],
    describe: describeRegister,
  };
}

/** State of the multi-key register: absent keys are left out. Treated as immutable. */
export type KeyedRegisterState = ReadonlyMap<string, RegisterValue>;

/**
 * Independent registers, one per key. Linearizability is local (Herlihy & Wing), so the
 * checker checks each key's sub-history on its own, which keeps the search small.
 */
export function multiRegisterModel(): Model<KeyedRegisterState, KeyedRegisterInput, RegisterOutput> {
  return {
    init: () => new Map(),
    step(state, input, output) {
      if (typeof input.key !== 'string') throw new Error(`operation without a key: ${JSON.stringify(input)}`);
      const before = state.get(input.key) ?? null;
      const r = stepRegister(before, input, output);
      if (r.state === before) return { ok: r.ok, state };
      const next = new Map(state);
      if (r.state === null) next.delete(input.key);
      else next.set(input.key, r.state);
      return { ok: r.ok, state: next };
    },
    hash(state) {
      // Per-key parts hold one key at most: skip the sort in that hot case.
      if (state.size === 0) return '[]';
      if (state.size === 1) {
        for (const [k, v] of state) return `[[${JSON.stringify(k)},${JSON.stringify(v)}]]`;
      }
      return JSON.stringify([...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    },
    partition(ops) {
      const byKey = new Map<string, Operation<KeyedRegisterInput, RegisterOutput>[]>();
      for (const op of ops) {
        if (!matters(op)) continue;
        const list = byKey.get(op.input.key);
        if (list === undefined) byKey.set(op.input.key, [op]);
        else list.push(op);
      }
      return [...byKey.keys()].sort().map((k) => byKey.get(k) as Operation<KeyedRegisterInput, RegisterOutput>[]);
    },
    keyOf: (input) => input.key,
    describe: describeRegister,
  };
}
