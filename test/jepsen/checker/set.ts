// The set workload's check: clients add unique elements, then one final read lists the
// set. Every add acknowledged before that read began must be in it (no lost writes), and
// it must hold nothing that was never attempted or whose every attempt definitely failed.

import { toOperations, UNKNOWN } from './history.js';
import type { HistoryEvent, Operation } from './history.js';

export type SetElement = string | number;
export type SetInput<V extends SetElement> = { readonly f: 'add'; readonly value: V } | { readonly f: 'read' };
/** read: the elements seen; add: ignored. */
export type SetOutput<V extends SetElement> = readonly V[] | undefined;

export interface SetCheckResult<V extends SetElement> {
  readonly valid: boolean;
  /** Id of the read checked: the successful read that completed last. */
  readonly finalRead: number;
  /** Distinct elements with at least one add attempt (not counting definite failures). */
  readonly attempted: number;
  /** Distinct elements acknowledged before the final read began: all must be present. */
  readonly acknowledged: number;
  /** Acknowledged, yet missing from the final read. */
  readonly lost: V[];
  /** In the final read, but never attempted. */
  readonly unexpected: V[];
  /** In the final read, but every attempt to add them definitely failed. */
  readonly failedButPresent: V[];
  /** In the final read more than once. */
  readonly duplicated: V[];
  /** Adds with an unknown outcome (or acknowledged during the final read) that are present. */
  readonly recovered: V[];
}

type SetOp<V extends SetElement> = Operation<SetInput<V>, SetOutput<V>>;

function finalReadOf<V extends SetElement>(ops: readonly SetOp<V>[]): { op: SetOp<V>; seen: readonly V[] } {
  let last: SetOp<V> | null = null;
  for (const op of ops) {
    if (op.input.f === 'read' && op.status === 'ok' && (last === null || op.ret > last.ret)) last = op;
  }
  if (last === null) throw new Error('checkSet: the history has no successful read');
  const seen = last.output;
  if (seen === UNKNOWN || !Array.isArray(seen)) {
    throw new Error(`checkSet: read op ${last.id} must return an array of elements`);
  }
  return { op: last, seen };
}

export function checkSet<V extends SetElement>(history: readonly HistoryEvent<SetInput<V>, SetOutput<V>>[]): SetCheckResult<V> {
  const ops = toOperations(history);
  const { op: read, seen } = finalReadOf(ops);

  // Per element, the strongest thing its add attempts say about it.
  const acked = new Set<V>();
  const maybe = new Set<V>(); // unknown outcome, or acknowledged after the read began
  const failed = new Set<V>();
  for (const op of ops) {
    if (op.input.f !== 'add') continue;
    const v = op.input.value;
    if (op.status === 'fail') failed.add(v);
    else if (op.status === 'ok' && op.ret < read.call) acked.add(v);
    else maybe.add(v);
  }

  const present = new Set<V>();
  const duplicated = new Set<V>();
  for (const v of seen) {
    if (present.has(v)) duplicated.add(v);
    present.add(v);
  }

  const lost = [...acked].filter((v) => !present.has(v));
  const unexpected: V[] = [];
  const failedButPresent: V[] = [];
  const recovered: V[] = [];
  for (const v of present) {
    if (acked.has(v)) continue;
    if (maybe.has(v)) recovered.push(v);
    else if (failed.has(v)) failedButPresent.push(v);
    else unexpected.push(v);
  }
  const attempted = new Set([...acked, ...maybe]).size;
  const order = (a: V, b: V): number => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
  return {
    valid: lost.length === 0 && unexpected.length === 0 && failedButPresent.length === 0 && duplicated.size === 0,
    finalRead: read.id,
    attempted,
    acknowledged: acked.size,
    lost: lost.sort(order),
    unexpected: unexpected.sort(order),
    failedButPresent: failedButPresent.sort(order),
    duplicated: [...duplicated].sort(order),
    recovered: recovered.sort(order),
  };
}
