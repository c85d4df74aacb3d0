// Turns a failed search into something a person can act on: the end of the longest
// linearizable prefix, the state it leaves, and the operation that could not be placed.

import { UNKNOWN } from './history.js';
import type { Operation } from './history.js';
import type { Model } from './model.js';

export interface Witness<Input, Output> {
  /** Length of the longest linearizable prefix found. */
  readonly linearized: number;
  /** Its last few operations, in linearization order. */
  readonly prefixTail: readonly Operation<Input, Output>[];
  /** Model state (its hash) after the prefix. */
  readonly state: string;
  /** The operation that returned before it could be linearized after that prefix. */
  readonly stuck: Operation<Input, Output>;
  /** The above as one paragraph. */
  readonly summary: string;
}

const TAIL = 8;

export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const body =
    model.describe !== undefined
      ? model.describe(op.input, op.output)
      : `${JSON.stringify(op.input)} → ${op.output === UNKNOWN ? '?' : JSON.stringify(op.output)}`;
  const ret = op.ret === Infinity ? '∞' : String(op.ret);
  return `op ${op.id} (process ${String(op.process)}, ${body}, [${op.call}, ${ret}])`;
}

export function makeWitness<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  prefix: readonly number[],
  stuck: number,
  state: string,
  key: string | undefined,
): Witness<I, O> {
  const tail = prefix.slice(-TAIL).map((i) => ops[i]);
  const where = key === undefined ? '' : `key ${JSON.stringify(key)}: `;
  const shown = tail.map((op) => describeOperation(model, op)).join(', ');
  const lead = prefix.length > tail.length ? `…, ` : '';
  const summary =
    `${where}not linearizable. The longest linearizable prefix has ${prefix.length} operation(s)` +
    (tail.length > 0 ? ` ending with ${lead}${shown}` : '') +
    ` and leaves state ${state}; ${describeOperation(model, ops[stuck])} ` +
    `returned before it could be placed after it.`;
  return { linearized: prefix.length, prefixTail: tail, state, stuck: ops[stuck], summary };
}
