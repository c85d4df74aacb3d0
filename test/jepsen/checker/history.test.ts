import t from 'tap';
import { HistoryRecorder, monotonicClock, toOperations, UNKNOWN } from './history.js';
import type { HistoryEvent } from './history.js';

type Ev = HistoryEvent<string, number>;

t.test('recorder pairs invocations and completions into operations', async (t) => {
  const h = new HistoryRecorder<string, number>(() => 0);
  const a = h.invoke(1, 'a', 0);
  const b = h.invoke(2, 'b', 1);
  const c = h.invoke(3, 'c', 2);
  h.ok(b, 42, 3);
  h.fail(a, 'refused', 4);
  h.info(c, 'timeout', 5);
  const d = h.invoke(2, 'd', 6); // process 2 is free again; left in flight
  const ops = h.operations();
  t.same(
    ops.map((o) => [o.id, o.process, o.call, o.ret, o.input, o.status]),
    [
      [a, 1, 0, 4, 'a', 'fail'],
      [b, 2, 1, 3, 'b', 'ok'],
      [c, 3, 2, Infinity, 'c', 'info'],
      [d, 2, 6, Infinity, 'd', 'info'],
    ],
  );
  t.equal(ops[1].output, 42);
  t.equal(ops[0].output, UNKNOWN, 'a failed op has no output');
  t.equal(ops[2].output, UNKNOWN, 'an unknown op has no output');
  t.equal(ops[3].output, UNKNOWN, 'an op in flight at the end is unknown');
  t.equal(h.events.length, 7);
  t.match(h.events[4], { kind: 'fail', error: 'refused' });
});

t.test('recorder refuses misuse', async (t) => {
  const h = new HistoryRecorder<string, number>(() => 0);
  const a = h.invoke(1, 'a', 10);
  t.throws(() => h.invoke(1, 'b', 11), /process 1 invoked an operation while another is in flight/);
  t.throws(() => h.ok(a, 1, 9), /before the previous event/);
  t.throws(() => h.ok(a, 1, NaN), /finite/);
  h.ok(a, 1, 12);
  t.throws(() => h.ok(a, 1, 13), /not in flight/);
  t.throws(() => h.info(99, 'lost', 20), /operation 99 is not in flight/);
});

t.test('recorder uses its clock when no time is given', async (t) => {
  let now = 100;
  const h = new HistoryRecorder<string, number>(() => now);
  const a = h.invoke('p', 'x');
  now = 250;
  h.ok(a, 7);
  const [op] = h.operations();
  t.equal(op.call, 100);
  t.equal(op.ret, 250);
});

t.test('monotonic clock never goes back', async (t) => {
  const clock = monotonicClock();
  let last = clock();
  t.ok(last >= 0 && last < 1000, 'starts near zero (ms)');
  let backwards = 0;
  for (let i = 0; i < 10_000; i++) {
    const now = clock();
    if (now < last) backwards++;
    last = now;
  }
  t.equal(backwards, 0);
});

t.test('toOperations rejects malformed histories with a clear message', async (t) => {
  const inv = (op: number, process: number, time: number): Ev => ({ kind: 'invoke', op, process, time, input: 'x' });
  const ok = (op: number, process: number, time: number): Ev => ({ kind: 'ok', op, process, time, output: 1 });
  t.throws(() => toOperations([ok(0, 1, 0)]), /op 0 completes before it is invoked/);
  t.throws(() => toOperations([inv(0, 1, 0), inv(0, 2, 1)]), /op 0 is invoked twice/);
  t.throws(() => toOperations([inv(0, 1, 0), inv(1, 1, 1)]), /process 1 invoked op 1 while op 0 is in flight/);
  t.throws(() => toOperations([inv(0, 1, 0), ok(0, 2, 1)]), /invoked by process 1 but completed by 2/);
  t.throws(() => toOperations([inv(0, 1, 5), ok(0, 1, 4)]), /completes \(4\) before its invocation \(5\)/);
  t.throws(() => toOperations([inv(0, 1, 0), ok(0, 1, 1), ok(0, 1, 2)]), /op 0 completes twice/);
  t.throws(() => toOperations([inv(0, 1, Infinity)]), /finite/);
});

t.test('toOperations survives a JSON round trip of the events', async (t) => {
  const h = new HistoryRecorder<string, number>(() => 0);
  const a = h.invoke(1, 'a', 0);
  const b = h.invoke(2, 'b', 0);
  h.ok(a, 3, 1);
  h.info(b, 'crash', 2);
  const back = JSON.parse(JSON.stringify(h.events)) as Ev[];
  t.same(toOperations(back), h.operations());
});
