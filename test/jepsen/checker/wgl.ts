// The Wing–Gong–Lowe search for one (sub-)history, with Lowe's memoization: depth-first,
// it tries to linearize, one after another, operations whose call entry comes before the
// first return entry still in the list (those are the ones that may go next), and
// backtracks when it meets a return entry whose operation it has not linearized yet.
// A configuration (set of linearized operations, model state) that was seen before
// cannot lead anywhere new, so it is skipped: that cache is what makes it practical.
// Unknown operations get extra care (two scans, dominance in the cache, and the
// redundant-unknown rule at the end of this file); plain WGL explodes on them.

import { Bitset } from './bitset.js';
import { buildEntries, lift, unlift } from './entries.js';
import { ConfigCache } from './memo.js';
import type { Entry } from './entries.js';
import type { Operation } from './history.js';
import type { Model } from './model.js';

export interface SearchBudget {
  /** Loop iterations allowed for this search. */
  readonly maxSteps: number;
  /** performance.now() value after which the search gives up. */
  readonly deadline: number;
}

export type SearchOutcome =
  | { readonly kind: 'linearizable'; readonly steps: number }
  | {
      readonly kind: 'violation';
      readonly steps: number;
      /** Indices (into the ops given) of the longest linearizable prefix, in order. */
      readonly prefix: readonly number[];
      /** Index of the operation that returned before it could be linearized after that prefix. */
      readonly stuck: number;
      /** Model state hash after the prefix. */
      readonly state: string;
    }
  | { readonly kind: 'exhausted'; readonly steps: number; readonly reason: string };

const CLOCK_EVERY = 1024; // steps between deadline checks; performance.now() is not free

interface Frame<State> {
  readonly entry: Entry;
  /** State before this entry's operation was applied. */
  readonly state: State;
}

/**
 * Searches for a linearization of `ops` (none of them `fail`). Unknown operations return
 * at +infinity: they may be linearized anywhere after their call, and they never have to
 * be, since the model accepts them in any state; the search succeeds as soon as every
 * `ok` operation is linearized.
 */
export function searchLinearization<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  budget: SearchBudget,
): SearchOutcome {
  for (const op of ops) {
    if (op.status === 'fail') throw new Error(`op ${op.id} failed; drop failed operations before the search`);
    if (op.status === 'info' && op.ret !== Infinity) throw new Error(`unknown op ${op.id} must return at +infinity`);
  }
  const head = buildEntries(ops);
  // Each op's bit in the set of linearized ok ops or in that of linearized unknown ops.
  const slot: number[] = [];
  let nOk = 0;
  let nUnknown = 0;
  for (const op of ops) slot.push(op.status === 'ok' ? nOk++ : nUnknown++);
  const linearizedOk = new Bitset(nOk);
  const linearizedUnknown = new Bitset(nUnknown);
  const bits = (i: number): Bitset => (ops[i].status === 'ok' ? linearizedOk : linearizedUnknown);
  const cache = new ConfigCache();
  const stack: Frame<State>[] = [];
  let state = model.init();
  let definiteLeft = ops.reduce((n, op) => n + (op.status === 'ok' ? 1 : 0), 0);
  let unknownLeft = ops.length - definiteLeft;
  // Each configuration is scanned twice: for ok operations first, then for unknown ones.
  // Candidate order never changes the verdict, but this way the cache first meets each
  // (ok set, state) with the fewest unknown operations linearized, which then dominates
  // the later visits (see memo.ts), and a linearization, when there is one, is found
  // without dragging pending unknown operations along.
  let unknownPass = false;
  let entry = head.next;
  let steps = 0;
  let best: { prefix: number[]; stuck: number; state: string } | null = null;

  while (definiteLeft > 0) {
    // A definite op's return is finite, so it is met before any unknown op's return.
    if (entry === null) throw new Error('invariant broken: reached the end of the entry list with ok operations left');
    steps++;
    if (steps > budget.maxSteps) {
      return { kind: 'exhausted', steps, reason: `search budget of ${budget.maxSteps} steps exhausted` };
    }
    if (steps % CLOCK_EVERY === 0 && performance.now() > budget.deadline) {
      return { kind: 'exhausted', steps, reason: `time budget exhausted after ${steps} steps` };
    }

    if (entry.isCall) {
      const op = ops[entry.op];
      if ((op.status === 'info') !== unknownPass) {
        entry = entry.next;
        continue;
      }
      const r = model.step(state, op.input, op.output);
      const after = r.ok ? model.hash(r.state) : '';
      if (r.ok && !redundantUnknown(model, ops, stack, op, after)) {
        bits(entry.op).set(slot[entry.op]);
        if (cache.visit(linearizedOk, linearizedUnknown, after)) {
          stack.push({ entry, state });
          state = r.state;
          lift(entry);
          if (op.status === 'ok') definiteLeft--;
          else unknownLeft--;
          entry = head.next;
          unknownPass = false;
          continue;
        }
        bits(entry.op).clear(slot[entry.op]);
      }
      entry = entry.next;
      continue;
    }

    // A return entry: its operation had to be linearized by now, and was not.
    if (!unknownPass && unknownLeft > 0) {
      unknownPass = true;
      entry = head.next;
      continue;
    }
    if (best === null || stack.length > best.prefix.length) {
      best = { prefix: stack.map((f) => f.entry.op), stuck: entry.op, state: model.hash(state) };
    }
    const top = stack.pop();
    if (top === undefined) {
      return { kind: 'violation', steps, prefix: best.prefix, stuck: best.stuck, state: best.state };
    }
    state = top.state;
    bits(top.entry.op).clear(slot[top.entry.op]);
    unlift(top.entry);
    if (ops[top.entry.op].status === 'ok') definiteLeft++;
    else unknownLeft++;
    entry = top.entry.next;
    unknownPass = ops[top.entry.op].status === 'info';
  }
  return { kind: 'linearizable', steps };
}

/**
 * Our addition to plain WGL, for histories with many unknown operations. If the last
 * operation linearized is unknown (U) and placing `op` right before it instead would
 * succeed and reach the same state, then U did nothing here: the configuration "U left
 * out" has the same state and fewer operations linearized, and it is explored from U's
 * parent (op was a candidate there too, because U's return at +infinity blocks nothing).
 * So this branch is skipped. Without it, n concurrent unknown blind writes make the
 * search try every subset of them; with it, it tries each one alone.
 */
function redundantUnknown<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  stack: readonly Frame<State>[],
  op: Operation<Input, Output>,
  after: string,
): boolean {
  const top = stack[stack.length - 1];
  if (top === undefined || ops[top.entry.op].status !== 'info') return false;
  const without = model.step(top.state, op.input, op.output);
  return without.ok && model.hash(without.state) === after;
}
