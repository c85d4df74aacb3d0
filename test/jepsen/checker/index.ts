// The linearizability checker for the Jepsen-style tests. See README.md.

export { HistoryRecorder, monotonicClock, toOperations, UNKNOWN } from './history.js';
export type { CompleteEvent, CompletionStatus, HistoryEvent, InvokeEvent, Operation, ProcessId, Unknown } from './history.js';
export type { Model, StepResult } from './model.js';
export { multiRegisterModel, registerModel } from './register.js';
export type {
  KeyedRegisterInput,
  KeyedRegisterState,
  RegisterInput,
  RegisterOutput,
  RegisterState,
  RegisterValue,
} from './register.js';
export { checkHistory, checkOperations, DEFAULT_MAX_STEPS, DEFAULT_TIMEOUT_MS } from './check.js';
export type { CheckOptions, CheckResult } from './check.js';
export type { Witness } from './witness.js';
export { describeOperation } from './witness.js';
export { checkSet } from './set.js';
export type { SetCheckResult, SetElement, SetInput, SetOutput } from './set.js';
