// The sequential specification a history is checked against. The checker only ever asks
// a model "from this state, could this operation have returned this output, and what is
// the state after it?"; everything about the data type lives here.

import type { Operation, Unknown } from './history.js';

export interface StepResult<State> {
  readonly ok: boolean;
  readonly state: State;
}

export interface Model<State, Input, Output> {
  init(): State;
  /**
   * Applies one operation. `output` is UNKNOWN for an operation whose outcome is unknown:
   * the model must then accept it in every state (it took effect, with whatever result
   * the state gives). States are values: never mutate the one passed in.
   */
  step(state: State, input: Input, output: Output | Unknown): StepResult<State>;
  /** Equal states must hash equal, different states differently: it keys the memo cache. */
  hash(state: State): string;
  /**
   * Splits a history into independent sub-histories checked one by one (per key, for a
   * key-value store). It may leave out operations that cannot change the verdict, such
   * as reads with an unknown outcome; it must not put one operation in two parts.
   */
  partition?(ops: readonly Operation<Input, Output>[]): Operation<Input, Output>[][];
  /** Names the part an operation belongs to, for reports. */
  keyOf?(input: Input): string;
  /** One short line for an operation, for reports. */
  describe?(input: Input, output: Output | Unknown): string;
}
