// The clock, slow-disk and storage faults: drawn from the seed alone, only when asked for,
// within their documented ranges; the clock arithmetic behind libfaketime's spec; the
// durability check.
import t from 'tap';
import { clockError, continuousRate, faketimeSpec, fakeTimeAt, freezeDrift, TRUE_CLOCK } from './nemesis/clock.js';
import { DRIFT_RATES, NODE_DRIFT_RATES, nemesisSchedule, SKEW_MS, SLOW_DISK_MS, type FaultKind } from './nemesis/schedule.js';
import { checkDurability, recordValue, type DurabilityWrite } from './workloads/durability.js';
import { prng } from '../helpers/prng.js';
import { parseArgs } from './args.js';

const SEED = Number(process.env['JEPSEN_SCHEDULE_SEED'] ?? 20240611);
t.comment(`seed ${SEED}`);

t.test('the new kinds are drawn only when asked for, the same for the same seed', async (t) => {
  const kinds: FaultKind[] = ['clock', 'slow-disk', 'storage'];
  const a = nemesisSchedule({ seed: SEED, kinds, durationMs: 300_000 });
  t.same(nemesisSchedule({ seed: SEED, kinds, durationMs: 300_000 }), a);
  t.same(new Set(a.map((s) => s.fault.kind)), new Set(kinds));
  // Older kinds' schedules are unchanged by the new ones existing.
  const old = nemesisSchedule({ seed: SEED, kinds: ['kill', 'pause', 'partition'], durationMs: 120_000 });
  t.notOk(old.some((s) => kinds.includes(s.fault.kind)), 'no new kind in a default schedule');
});

t.test('clock, slow-disk and storage faults stay in their ranges', async (t) => {
  let skews = 0;
  let nodeDrifts = 0;
  for (let seed = SEED; seed < SEED + 200; seed++) {
    for (const s of nemesisSchedule({ seed, kinds: ['clock', 'slow-disk', 'storage'], durationMs: 60_000 })) {
      const f = s.fault;
      if (f.kind === 'clock') {
        const node = f.target === 'primary' || f.target === 'replica';
        if (f.mode === 'skew') {
          skews++;
          if (node) t.fail(`seed ${seed}: a storage node's clock stepped`);
          if (Math.abs(f.offsetMs) < SKEW_MS[0] || Math.abs(f.offsetMs) > SKEW_MS[1] || f.rate !== 1) t.fail(`seed ${seed}: skew ${f.offsetMs} ms x${f.rate}`);
        } else {
          if (f.offsetMs !== 0) t.fail(`seed ${seed}: a drift with an offset`);
          if (node) nodeDrifts++;
          if (!(node ? NODE_DRIFT_RATES : DRIFT_RATES).includes(f.rate)) t.fail(`seed ${seed}: drift x${f.rate} on ${f.target}`);
          // Storage nodes stay within the lease's documented 25 % (docs/data-plane.md).
          if (node && Math.abs(1 - f.rate) > 0.25) t.fail(`seed ${seed}: node drift x${f.rate} beyond the lease grace`);
        }
      } else if (f.kind === 'slow-disk') {
        if (!SLOW_DISK_MS.includes(f.delayMs)) t.fail(`seed ${seed}: fsync delay ${f.delayMs}`);
      } else if (f.kind === 'storage') {
        if (f.damage === 'tear-last' && f.crash !== 'one') t.fail(`seed ${seed}: a cut inside the last record with the whole group killed`);
        if (!Number.isSafeInteger(f.seed) || f.seed < 1) t.fail(`seed ${seed}: damage seed ${f.seed}`);
      }
    }
  }
  t.ok(skews > 0 && nodeDrifts > 0, `${skews} skews, ${nodeDrifts} node drifts drawn`);
  t.ok(Math.max(...SLOW_DISK_MS) > 2000, 'the slowest fsync outlasts an election timeout');
  t.ok(SKEW_MS[1] > 2400, 'the largest skew outlasts the node lease');
});

t.test('libfaketime specs: only a sign, digits, a point and x', async (t) => {
  t.equal(faketimeSpec(TRUE_CLOCK), '+0.000 x1');
  t.equal(faketimeSpec({ offsetMs: -1500, rate: 2 }), '-1.500 x2');
  t.equal(faketimeSpec({ offsetMs: 13639, rate: 0.8 }), '+13.639 x0.8');
  t.match(faketimeSpec({ offsetMs: 1 / 3, rate: 1 / 3 }), /^[+-][0-9.]+ x[0-9.]+$/);
  t.throws(() => faketimeSpec({ offsetMs: 0, rate: 0 }));
  t.throws(() => faketimeSpec({ offsetMs: Number.NaN, rate: 1 }));
});

t.test('a rate change keeps the clock continuous; freezing a drift keeps what it drifted', async (t) => {
  const start = 1_000_000;
  const now = start + 50_000;
  for (const rate of [0.5, 0.8, 1.25, 2]) {
    const drifted = continuousRate(TRUE_CLOCK, rate, start, now);
    t.equal(Math.round(fakeTimeAt(drifted, start, now)), now, `x${rate}: no jump when the drift starts`);
    const later = now + 4000;
    t.equal(Math.round(clockError(drifted, start, later)), Math.round(4000 * (rate - 1)), `x${rate}: off by what it drifted`);
    const frozen = freezeDrift(drifted, start, later);
    t.equal(frozen.rate, 1);
    t.equal(Math.round(fakeTimeAt(frozen, start, later)), Math.round(fakeTimeAt(drifted, start, later)), 'no jump when it stops');
    t.equal(Math.round(clockError(frozen, start, later + 10_000)), Math.round(4000 * (rate - 1)), 'and it stays that far off');
  }
});

const write = (key: string, value: string, outcome: DurabilityWrite['outcome']): DurabilityWrite => ({ key, value, outcome, at: 0 });

t.test('durability check: acknowledged present and byte-equal, failed absent', async (t) => {
  const writes = [write('a', 'va', 'ok'), write('b', 'vb', 'unknown'), write('c', 'vc', 'fail'), write('d', 'vd', 'unknown')];
  const good = checkDurability(writes, new Map([['a', { value: 'va' }], ['b', { value: 'vb' }], ['c', { value: null }], ['d', { value: null }]]));
  t.equal(good.valid, true);
  t.equal(good.acknowledged, 1);
  t.equal(good.unknownPresent, 1);

  const lost = checkDurability(writes, new Map([['a', { value: null }], ['b', { value: null }], ['c', { value: null }], ['d', { value: null }]]));
  t.equal(lost.valid, false);
  t.same(lost.lost, ['a']);

  const flipped = checkDurability(writes, new Map([['a', { value: 'vA' }], ['b', { value: 'vb!' }], ['c', { value: null }], ['d', { value: null }]]));
  t.equal(flipped.valid, false);
  t.same(flipped.corrupted, ['a', 'b'], 'other bytes are corruption, acknowledged or not');

  const phantom = checkDurability(writes, new Map([['a', { value: 'va' }], ['b', { value: null }], ['c', { value: 'vc' }], ['d', { value: null }]]));
  t.same(phantom.failedButPresent, ['c']);
  t.equal(phantom.valid, false);

  const unreadable = checkDurability(writes, new Map([['a', { value: 'va' }], ['b', { error: '500 corrupt' }], ['c', { value: null }]]));
  t.equal(unreadable.valid, 'unknown');
  t.same(unreadable.unreadable, ['b', 'd']);

  t.throws(() => checkDurability([write('a', 'x', 'ok'), write('a', 'y', 'ok')], new Map()), /written twice/);
});

t.test('record values are seeded, printable and carry their key', async (t) => {
  const a = recordValue(prng(SEED), 'k1');
  t.equal(recordValue(prng(SEED), 'k1'), a);
  t.match(a, /^k1:[A-Za-z0-9_-]{16,3072}$/);
});

t.test('the command line takes the new workload and kinds', async (t) => {
  const o = parseArgs(['--seed', '5', '--workload', 'durability', '--nemesis', 'clock,slow-disk,storage'], () => 1);
  t.same(o.workloads, ['durability']);
  t.same(o.nemesis, ['clock', 'slow-disk', 'storage']);
  t.notOk(parseArgs([], () => 1).workloads.includes('durability'), 'not in the default workloads');
});
