// Randomized: histories from a real register are linearizable; mutate one read and
// they are not. Small ones are also cross-checked against a brute-force oracle.
// Replay a failure with CHECKER_SEED=<seed printed below>.
import t from 'tap';
import { checkHistory } from './check.js';
import { toOperations } from './history.js';
import { multiRegisterModel } from './register.js';
import { bruteForceLinearizable } from './testkit/brute.js';
import { buildHistory } from './testkit/build.js';
import { generateRegisterHistory, mutateGhostRead, mutateOtherRead, mutateStaleRead } from './testkit/generate.js';
import type { GenOptions, KeyedSpec } from './testkit/generate.js';
import { makeRng, testSeed } from './testkit/prng.js';

const seed = testSeed();
t.comment(`seed ${seed} (CHECKER_SEED=${seed} to replay)`);
const rng = makeRng(seed);
const model = multiRegisterModel();
const check = (specs: KeyedSpec[]) => checkHistory(model, buildHistory(specs), { timeoutMs: 20_000 });

function options(): GenOptions {
  return {
    ops: rng.int(20, 150),
    keys: rng.int(1, 3),
    processes: rng.int(2, 6),
    unknownRate: rng.pick([0, 0.05, 0.15]),
    failRate: rng.pick([0, 0.05]),
    casRatio: rng.pick([0, 0.2, 0.4]),
  };
}

t.test('histories of a real register are linearizable', async (t) => {
  let bad = 0;
  for (let i = 0; i < 150; i++) {
    const o = options();
    const r = check(generateRegisterHistory(rng, o));
    if (r.valid !== true) {
      bad++;
      t.fail(`trial ${i} (${JSON.stringify(o)}): ${JSON.stringify(r.valid === false ? r.witness.summary : r)}`);
    }
  }
  t.equal(bad, 0);
});

t.test('a stale read or a ghost read is always caught', async (t) => {
  let stale = 0;
  let ghost = 0;
  for (let i = 0; i < 150; i++) {
    const specs = generateRegisterHistory(rng, options());
    const s = mutateStaleRead(rng, specs);
    if (s !== null) {
      stale++;
      const r = check(s);
      if (r.valid !== false) t.fail(`trial ${i}: stale read accepted: ${JSON.stringify(r)}`);
    }
    const g = mutateGhostRead(rng, specs);
    if (g !== null) {
      ghost++;
      const r = check(g);
      if (r.valid !== false) t.fail(`trial ${i}: ghost read accepted: ${JSON.stringify(r)}`);
    }
  }
  t.ok(stale >= 100, `${stale} stale-read mutations checked`);
  t.ok(ghost >= 100, `${ghost} ghost-read mutations checked`);
});

t.test('a read changed to another value of its key is caught most of the time', async (t) => {
  let tried = 0;
  let caught = 0;
  let undecided = 0;
  for (let i = 0; i < 200; i++) {
    const m = mutateOtherRead(rng, generateRegisterHistory(rng, options()));
    if (m === null) continue;
    tried++;
    const r = check(m);
    if (r.valid === 'unknown') undecided++;
    if (r.valid === false) caught++;
  }
  t.comment(`caught ${caught} of ${tried}`);
  t.equal(undecided, 0, 'every check decided within its budget');
  t.ok(tried >= 150 && caught >= tried * 0.6, `caught ${caught} of ${tried}`);
});

/** Runs WGL and brute force on small random histories; returns the disagreements. */
function crossCheck(gen: GenOptions, trials: number): { mismatches: string[]; invalid: number } {
  const mismatches: string[] = [];
  let invalid = 0;
  for (let i = 0; i < trials; i++) {
    let specs = generateRegisterHistory(rng, { ...gen, ops: rng.int(1, gen.ops) });
    if (rng.chance(0.6)) specs = mutateOtherRead(rng, specs) ?? specs;
    const history = buildHistory(specs);
    const expected = bruteForceLinearizable(model, toOperations(history));
    const got = checkHistory(model, history).valid;
    if (got !== expected) mismatches.push(`trial ${i}: WGL says ${got}, brute force ${expected}: ${JSON.stringify(specs)}`);
    if (!expected) invalid++;
  }
  return { mismatches, invalid };
}

t.test('the WGL search agrees with brute force on small histories', async (t) => {
  const small = { ops: 10, processes: 4, maxGap: 3, maxLatency: 6 };
  // [name, generator, least share of non-linearizable histories expected (well below what is seen)]
  const cases: [string, GenOptions, number][] = [
    ['mixed', { ...small, keys: 2, unknownRate: 0.2, failRate: 0.1, casRatio: 0.3 }, 0.1],
    // Unknown operations are where the search departs from plain WGL: stress them.
    ['unknown-heavy', { ...small, keys: 1, unknownRate: 0.45, casRatio: 0.5, readRatio: 0.3 }, 0.07],
    // Repeated values: different orders reach equal states, which is what the cache merges.
    ['few-values', { ...small, keys: 1, unknownRate: 0.5, casRatio: 0.4, readRatio: 0.3, values: 3 }, 0.03],
  ];
  const trials = 1500;
  for (const [name, gen, least] of cases) {
    const { mismatches, invalid } = crossCheck(gen, trials);
    t.same(mismatches.slice(0, 3), [], `${name}: WGL and brute force agree on ${trials} histories`);
    t.comment(`${name}: ${invalid} of ${trials} were not linearizable`);
    t.ok(invalid > trials * least && invalid < trials, `${name}: both verdicts were exercised`);
  }
});
