// The exactly-once check on known good and known bad histories.
import t from 'tap';
import { checkExactlyOnce, type ExactlyOnceInput, type ExactlyOnceOutput } from './exactly-once.js';
import { HistoryRecorder } from './history.js';

type H = HistoryRecorder<ExactlyOnceInput, ExactlyOnceOutput>;

function recorder(): H {
  let now = 0;
  return new HistoryRecorder<ExactlyOnceInput, ExactlyOnceOutput>(() => ++now);
}

function add(h: H, proc: string, seq: number, end: 'ok' | 'fail' | 'info', values: number[] = [], counter = 'c', error?: string): void {
  const op = h.invoke(proc, { f: 'add', counter, clientId: proc, seq });
  if (end === 'ok') h.ok(op, { values });
  else if (end === 'fail') h.fail(op, error ?? '400 bad-request');
  else h.info(op, error ?? 'timeout');
}

function read(h: H, value: number, counter = 'c'): void {
  const op = h.invoke(`final-${counter}`, { f: 'read', counter });
  h.ok(op, { value });
}

t.test('a good history: retries answer one value, unknown adds may or may not count', async (t) => {
  const h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  add(h, 'b', 1, 'ok', [3, 3]); // sent twice, both answers 3
  add(h, 'a', 2, 'info'); // applied (value 2), answer never seen
  add(h, 'b', 2, 'ok', [4]);
  add(h, 'a', 3, 'fail');
  add(h, 'a', 4, 'info'); // never applied
  read(h, 4);
  const r = checkExactlyOnce(h.events);
  t.equal(r.valid, true, JSON.stringify(r.counters));
  t.match(r.counters[0], { counter: 'c', final: 4, acknowledged: 3, attempted: 5 });
  t.equal(r.repeated, 1);
  t.equal(r.retried, 0);
  const h2 = recorder();
  const op = h2.invoke('a', { f: 'add', counter: 'c', clientId: 'a', seq: 1 });
  h2.ok(op, { values: [1], attempts: 3 });
  read(h2, 1);
  t.match(checkExactlyOnce(h2.events), { valid: true, retried: 1, repeated: 0 }, 'an add that needed three sends counts as retried');
});

t.test('several counters are checked apart', async (t) => {
  const h = recorder();
  add(h, 'a', 1, 'ok', [1], 'x');
  add(h, 'a', 2, 'ok', [1], 'y');
  read(h, 1, 'x');
  read(h, 1, 'y');
  t.equal(checkExactlyOnce(h.events).valid, true);
});

t.test('an add applied twice', async (t) => {
  // The duplicate answered a new value.
  let h = recorder();
  add(h, 'a', 1, 'ok', [1, 2]);
  read(h, 2);
  let r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters[0]!.problems.join('\n'), /retries of one add answered different values: op 0 \(a seq 1\) answered 1, 2/);
  t.match(r.counters[0]!.problems.join('\n'), /final value 2 exceeds the 1 adds attempted/);
  // The retry's answer was lost, but the final value gives it away.
  h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  add(h, 'b', 1, 'ok', [3]);
  read(h, 3);
  r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters[0]!.problems.join('\n'), /final value 3 exceeds the 2 adds attempted/);
});

t.test('two adds answered the same value', async (t) => {
  const h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  add(h, 'b', 1, 'ok', [1]);
  read(h, 2);
  const r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters[0]!.problems.join('\n'), /two adds answered the same value: value 1 answered to ops 0 and 1/);
});

t.test('a lost add and a value from the future', async (t) => {
  let h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  add(h, 'b', 1, 'ok', [2]);
  read(h, 1);
  let r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters[0]!.problems.join('\n'), /final value 1 is below the 2 acknowledged adds/);
  h = recorder();
  add(h, 'a', 1, 'ok', [5]);
  add(h, 'b', 1, 'info');
  read(h, 2);
  r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters[0]!.problems.join('\n'), /acknowledged values above the final value 2: 5/);
});

t.test('a definitely failed add must not count', async (t) => {
  const h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  add(h, 'a', 2, 'fail');
  read(h, 2);
  t.equal(checkExactlyOnce(h.events).valid, false);
});

t.test('the history itself: a reused sequence, a session refusal, bad values', async (t) => {
  let h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  add(h, 'a', 1, 'ok', [2]);
  read(h, 2);
  let r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters.find((c) => c.counter === '(history)')?.problems.join('\n'), /client a used sequence 1 for two adds/);
  h = recorder();
  add(h, 'a', 1, 'info', [], 'c', '409 stale-sequence');
  read(h, 1);
  r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters[0]!.problems.join('\n'), /meta refused a retry/);
  h = recorder();
  add(h, 'a', 1, 'ok', [0]);
  add(h, 'b', 1, 'ok', []);
  read(h, 2);
  r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.match(r.counters[0]!.problems.join('\n'), /answered 0/);
  t.match(r.counters[0]!.problems.join('\n'), /acknowledged without a value/);
});

t.test('no final read: undecided, unless something is already broken', async (t) => {
  let h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  let r = checkExactlyOnce(h.events);
  t.equal(r.valid, 'unknown');
  t.match(r.counters[0]!.problems, ['no successful final read']);
  h = recorder();
  add(h, 'a', 1, 'ok', [1, 2]);
  r = checkExactlyOnce(h.events);
  t.equal(r.valid, false);
  t.equal(checkExactlyOnce([]).valid, 'unknown', 'an empty history decides nothing');
  // The later of two final reads is the one checked.
  h = recorder();
  add(h, 'a', 1, 'ok', [1]);
  read(h, 0);
  read(h, 1);
  t.equal(checkExactlyOnce(h.events).valid, true);
});
