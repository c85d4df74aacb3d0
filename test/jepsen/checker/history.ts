// The recorded history of a Jepsen-style run: every operation as an invocation event and
// a completion event, stamped by a monotonic clock, and its conversion into operations
// with call and return times, which is what the linearizability checker consumes.

/** A client process. One process runs one operation at a time. */
export type ProcessId = number | string;

/**
 * How an operation ended:
 * - `ok`: it took effect and returned the recorded output;
 * - `fail`: it definitely did not take effect (refused before doing anything);
 * - `info`: unknown (timeout, crash, lost connection); it may have taken effect at any
 *   time after its invocation, even after the client gave up.
 */
export type CompletionStatus = 'ok' | 'fail' | 'info';

/** The output of an operation whose outcome is unknown. */
export const UNKNOWN: unique symbol = Symbol('unknown');
export type Unknown = typeof UNKNOWN;

export interface InvokeEvent<I> {
  readonly kind: 'invoke';
  readonly op: number;
  readonly process: ProcessId;
  readonly time: number;
  readonly input: I;
}

export interface CompleteEvent<O> {
  readonly kind: CompletionStatus;
  readonly op: number;
  readonly process: ProcessId;
  readonly time: number;
  /** Present for `ok` only. */
  readonly output?: O;
  /** Why a `fail` or `info` ended that way; for people reading the history. */
  readonly error?: string;
}

export type HistoryEvent<I, O> = InvokeEvent<I> | CompleteEvent<O>;

/** One operation, as the checker sees it. */
export interface Operation<I, O> {
  readonly id: number;
  readonly process: ProcessId;
  /** Invocation time. */
  readonly call: number;
  /** Completion time; Infinity when the outcome is unknown. */
  readonly ret: number;
  readonly input: I;
  /** UNKNOWN unless the status is `ok`. */
  readonly output: O | Unknown;
  readonly status: CompletionStatus;
}

/** Milliseconds (fractional, nanosecond resolution) since the clock was made; never goes back. */
export function monotonicClock(): () => number {
  const origin = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - origin) / 1e6;
}

/**
 * Records a history as it happens. Events must arrive in time order (the clock
 * guarantees it; explicit times are checked), as a single recorder sees them.
 */
export class HistoryRecorder<I, O> {
  private readonly log: HistoryEvent<I, O>[] = [];
  private readonly pending = new Map<number, ProcessId>();
  private readonly busy = new Set<ProcessId>();
  private nextOp = 0;
  private lastTime = -Infinity;

  constructor(private readonly clock: () => number = monotonicClock()) {}

  /** Records an invocation; returns the operation id to complete it with. */
  invoke(proc: ProcessId, input: I, time?: number): number {
    if (this.busy.has(proc)) {
      throw new Error(`process ${String(proc)} invoked an operation while another is in flight`);
    }
    const at = this.stamp(time);
    const op = this.nextOp++;
    this.append({ kind: 'invoke', op, process: proc, time: at, input });
    this.pending.set(op, proc);
    this.busy.add(proc);
    return op;
  }

  ok(op: number, output: O, time?: number): void {
    const at = this.stamp(time);
    const proc = this.close(op);
    this.append({ kind: 'ok', op, process: proc, time: at, output });
  }

  /** The operation definitely did not take effect. */
  fail(op: number, error?: string, time?: number): void {
    this.end('fail', op, error, time);
  }

  /** The outcome is unknown: it may or may not have taken effect. */
  info(op: number, error?: string, time?: number): void {
    this.end('info', op, error, time);
  }

  get events(): readonly HistoryEvent<I, O>[] {
    return this.log;
  }

  operations(): Operation<I, O>[] {
    return toOperations(this.log);
  }

  private end(kind: 'fail' | 'info', op: number, error: string | undefined, time: number | undefined): void {
    const at = this.stamp(time);
    const proc = this.close(op);
    this.append(error === undefined ? { kind, op, process: proc, time: at } : { kind, op, process: proc, time: at, error });
  }

  private close(op: number): ProcessId {
    const proc = this.pending.get(op);
    if (proc === undefined) throw new Error(`operation ${op} is not in flight`);
    this.pending.delete(op);
    this.busy.delete(proc);
    return proc;
  }

  /** Checks an event time without recording anything, so a refused event changes nothing. */
  private stamp(time: number | undefined): number {
    const t = time ?? this.clock();
    if (!Number.isFinite(t)) throw new Error(`event time must be a finite number, got ${t}`);
    if (t < this.lastTime) throw new Error(`event time ${t} is before the previous event (${this.lastTime})`);
    return t;
  }

  private append(event: HistoryEvent<I, O>): void {
    this.log.push(event);
    this.lastTime = event.time;
  }
}

/**
 * Pairs invocations with completions. Operations still in flight when the history ends
 * are unknown, like those completed with `info`. Throws on a malformed history.
 */
export function toOperations<I, O>(events: readonly HistoryEvent<I, O>[]): Operation<I, O>[] {
  const invokes = new Map<number, InvokeEvent<I>>();
  const done = new Map<number, CompleteEvent<O>>();
  const inFlight = new Map<ProcessId, number>();
  for (const e of events) {
    if (!Number.isFinite(e.time)) throw new Error(`op ${e.op}: event time must be finite, got ${e.time}`);
    if (e.kind === 'invoke') {
      if (invokes.has(e.op)) throw new Error(`op ${e.op} is invoked twice`);
      const other = inFlight.get(e.process);
      if (other !== undefined) {
        throw new Error(`process ${String(e.process)} invoked op ${e.op} while op ${other} is in flight`);
      }
      invokes.set(e.op, e);
      inFlight.set(e.process, e.op);
      continue;
    }
    const inv = invokes.get(e.op);
    if (inv === undefined) throw new Error(`op ${e.op} completes before it is invoked`);
    if (done.has(e.op)) throw new Error(`op ${e.op} completes twice`);
    if (inv.process !== e.process) {
      throw new Error(`op ${e.op} is invoked by process ${String(inv.process)} but completed by ${String(e.process)}`);
    }
    if (e.time < inv.time) throw new Error(`op ${e.op} completes (${e.time}) before its invocation (${inv.time})`);
    done.set(e.op, e);
    inFlight.delete(e.process);
  }
  const ops: Operation<I, O>[] = [];
  for (const inv of invokes.values()) {
    const end = done.get(inv.op);
    const status: CompletionStatus = end?.kind ?? 'info';
    ops.push({
      id: inv.op,
      process: inv.process,
      call: inv.time,
      ret: status === 'info' || end === undefined ? Infinity : end.time,
      input: inv.input,
      output: status === 'ok' && end !== undefined ? (end.output as O) : UNKNOWN,
      status,
    });
  }
  return ops.sort((a, b) => a.call - b.call || a.id - b.id);
}
