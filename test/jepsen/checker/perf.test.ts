// Performance sanity: a realistic history must check in well under a few seconds.
import t from 'tap';
import { checkHistory } from './check.js';
import { multiRegisterModel } from './register.js';
import { buildHistory } from './testkit/build.js';
import { generateRegisterHistory, mutateStaleRead } from './testkit/generate.js';
import { makeRng, testSeed } from './testkit/prng.js';

const seed = testSeed();
t.comment(`seed ${seed} (CHECKER_SEED=${seed} to replay)`);

t.test('2,000 operations over 5 keys with 5 concurrent clients', async (t) => {
  const rng = makeRng(seed);
  const specs = generateRegisterHistory(rng, {
    ops: 2_000,
    keys: 5,
    processes: 5,
    casRatio: 0.2,
    unknownRate: 0.02,
    failRate: 0.02,
  });
  const model = multiRegisterModel();

  let started = performance.now();
  const ok = checkHistory(model, buildHistory(specs));
  let took = performance.now() - started;
  t.same(ok, { valid: true });
  t.ok(took < 3_000, `valid history checked in ${took.toFixed(0)} ms`);

  const bad = mutateStaleRead(rng, specs);
  if (bad === null) throw new Error('a 2,000-op history always has a stale-read candidate');
  started = performance.now();
  const r = checkHistory(model, buildHistory(bad));
  took = performance.now() - started;
  t.equal(r.valid, false);
  t.ok(took < 3_000, `violation found in ${took.toFixed(0)} ms`);
});
