// Compact, readable histories for tests: one line per operation with explicit times.

import { HistoryRecorder } from '../history.js';
import type { CompletionStatus, HistoryEvent, ProcessId } from '../history.js';
import type { KeyedRegisterInput, RegisterInput, RegisterOutput, RegisterValue } from '../register.js';

export interface Spec<I, O> {
  readonly p: ProcessId;
  readonly call: number;
  /** Completion time; for `info` the moment the client gave up, null if it never did. */
  readonly ret: number | null;
  readonly input: I;
  readonly output?: O;
  readonly status?: CompletionStatus;
}

/** Records the specs through a HistoryRecorder, in time order (completions first on ties). */
export function buildHistory<I, O>(specs: readonly Spec<I, O>[]): HistoryEvent<I, O>[] {
  type Ev = { time: number; done: boolean; index: number };
  const evs: Ev[] = [];
  specs.forEach((s, index) => {
    evs.push({ time: s.call, done: false, index });
    if (s.ret !== null) evs.push({ time: s.ret, done: true, index });
  });
  evs.sort((a, b) => a.time - b.time || Number(b.done) - Number(a.done) || a.index - b.index);
  const rec = new HistoryRecorder<I, O>(() => {
    throw new Error('test histories give explicit times');
  });
  const ids = new Map<number, number>();
  for (const e of evs) {
    const s = specs[e.index];
    if (!e.done) {
      ids.set(e.index, rec.invoke(s.p, s.input, e.time));
      continue;
    }
    const id = ids.get(e.index) as number;
    const status = s.status ?? 'ok';
    if (status === 'ok') rec.ok(id, s.output as O, e.time);
    else if (status === 'fail') rec.fail(id, 'refused', e.time);
    else rec.info(id, 'timeout', e.time);
  }
  return [...rec.events];
}

type RegSpec = Spec<RegisterInput, RegisterOutput>;

export const read = (p: ProcessId, call: number, ret: number, value: RegisterValue | null): RegSpec => ({
  p, call, ret, input: { f: 'read' }, output: value,
});

export const write = (p: ProcessId, call: number, ret: number | null, value: RegisterValue, status: CompletionStatus = 'ok'): RegSpec => ({
  p, call, ret, input: { f: 'write', value }, status,
});

export const cas = (
  p: ProcessId, call: number, ret: number | null, expect: RegisterValue | null, value: RegisterValue,
  result: boolean | 'info' | 'fail',
): RegSpec => ({
  p, call, ret, input: { f: 'cas', expect, value },
  ...(typeof result === 'boolean' ? { output: result } : { status: result }),
});

/** The same operation on a named key, for the multi-key register. */
export function on(key: string, spec: RegSpec): Spec<KeyedRegisterInput, RegisterOutput> {
  return { ...spec, input: { ...spec.input, key } };
}
