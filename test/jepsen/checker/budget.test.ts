// The search is exponential in the worst case; a budget turns "hangs" into 'unknown'.
import t from 'tap';
import { checkOperations } from './check.js';
import { toOperations } from './history.js';
import { on, read, write } from './testkit/build.js';
import { checkKeyed, checkRegister } from './testkit/check.js';
import { buildHistory } from './testkit/build.js';
import { registerModel } from './register.js';

// Twenty-four concurrent acknowledged writes and a read of a value none of them wrote:
// to prove it wrong the search must try every subset of writes before the read.
const hard = (key: string) =>
  Array.from({ length: 24 }, (_, i) => on(key, write(i, 0, 100, i))).concat([on(key, read(99, 50, 60, 'x'))]);

t.test('a step budget gives up with unknown', async (t) => {
  const r = checkKeyed(hard('k'), { maxSteps: 10_000 });
  t.same(r, { valid: 'unknown', reason: 'key "k": search budget of 10000 steps exhausted' });
});

t.test('a time budget gives up with unknown, promptly', async (t) => {
  const started = performance.now();
  const r = checkKeyed(hard('k'), { timeoutMs: 50, maxSteps: Number.MAX_SAFE_INTEGER });
  const took = performance.now() - started;
  t.equal(r.valid, 'unknown');
  if (r.valid === 'unknown') t.match(r.reason, /^key "k": time budget exhausted after \d+ steps$/);
  t.ok(took < 2_000, `gave up after ${took.toFixed(0)} ms`);
});

t.test('a violation on one key wins over an undecided one', async (t) => {
  const r = checkKeyed(
    [...hard('a'), on('b', write(0, 200, 201, 1)), on('b', write(0, 202, 203, 2)), on('b', read(1, 204, 205, 1))],
    { maxSteps: 10_000 },
  );
  t.equal(r.valid, false);
  if (r.valid === false) t.equal(r.key, 'b');
});

t.test('budgets are validated', async (t) => {
  t.throws(() => checkRegister([], { maxSteps: 0 }), /maxSteps must be a positive number, got 0/);
  t.throws(() => checkRegister([], { timeoutMs: -1 }), /timeoutMs must be a positive number/);
  t.throws(() => checkRegister([], { timeoutMs: NaN }), /timeoutMs must be a positive number/);
});

t.test('the search refuses operations it was not meant to get', async (t) => {
  const ops = toOperations(buildHistory([write(0, 0, 1, 1), read(1, 2, 3, 1)]));
  const splitTwice = { ...registerModel(), partition: () => [ops, ops] };
  t.throws(() => checkOperations(splitTwice, ops), /model.partition put op 0 in two parts/);
});
