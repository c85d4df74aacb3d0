// A brute-force linearizability oracle for tiny histories: tries every order that
// respects real time, no memoization, no cleverness. Used to cross-check the WGL search.

import type { Operation } from '../history.js';
import type { Model } from '../model.js';

export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, all: readonly Operation<I, O>[]): boolean {
  const ops = all.filter((op) => op.status !== 'fail');
  if (ops.length > 10) throw new Error(`brute force is for tiny histories, got ${ops.length} operations`);
  const remaining = new Set(ops);
  const rec = (state: S): boolean => {
    if (![...remaining].some((op) => op.status === 'ok')) return true;
    for (const op of [...remaining]) {
      // op may go next only if nothing still pending returned strictly before it was called
      if ([...remaining].some((other) => other !== op && other.ret < op.call)) continue;
      const r = model.step(state, op.input, op.output);
      if (!r.ok) continue;
      remaining.delete(op);
      const found = rec(r.state);
      remaining.add(op);
      if (found) return true;
    }
    return false;
  };
  return rec(model.init());
}
