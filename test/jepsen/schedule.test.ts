// The nemesis schedule is a function of its seed: the same seed gives the same faults at
// the same times; every fault is healed before the run ends; only asked-for kinds appear.
import t from 'tap';
import { NODE_LEASE_MS } from './cluster/cluster.js';
import { describeFault, LINK_SHAPES, nemesisSchedule, type FaultKind } from './nemesis/schedule.js';

const SEED = Number(process.env['JEPSEN_SCHEDULE_SEED'] ?? 20240611);
t.comment(`seed ${SEED}`);

t.test('same seed, same schedule; another seed, another one', async (t) => {
  const opts = { seed: SEED, kinds: ['kill', 'pause', 'partition'] as FaultKind[], durationMs: 120_000 };
  const a = nemesisSchedule(opts);
  t.same(nemesisSchedule(opts), a);
  t.ok(a.length >= 8, `${a.length} steps in two minutes`);
  t.not(JSON.stringify(nemesisSchedule({ ...opts, seed: SEED + 1 })), JSON.stringify(a));
});

t.test('every fault heals before the end, one change every few seconds', async (t) => {
  for (let seed = SEED; seed < SEED + 50; seed++) {
    const steps = nemesisSchedule({ seed, kinds: ['kill', 'pause', 'partition'], durationMs: 60_000 });
    let last = 0;
    for (const s of steps) {
      if (s.at < last) t.fail(`seed ${seed}: step at ${s.at} overlaps the previous fault (healed at ${last})`);
      if (s.at - last > 3000) t.fail(`seed ${seed}: a gap of ${s.at - last} ms`);
      last = s.at + s.holdMs;
      if (s.fault.kind === 'pause' && s.holdMs <= NODE_LEASE_MS + 500) t.fail(`seed ${seed}: a pause of ${s.holdMs} ms does not outlast the lease`);
    }
    if (last > 60_000) t.fail(`seed ${seed}: the last fault heals at ${last} ms, after the run`);
  }
  t.pass('checked 50 seeds');
});

t.test('only the kinds asked for', async (t) => {
  const steps = nemesisSchedule({ seed: SEED, kinds: ['partition'], durationMs: 120_000 });
  t.ok(steps.length > 0);
  t.ok(steps.every((s) => s.fault.kind === 'partition'));
  const shapes = new Set(steps.map((s) => (s.fault.kind === 'partition' ? s.fault.shape : '')));
  t.ok(shapes.size >= 4, `several partition shapes: ${[...shapes].join(', ')}`);
  t.same(nemesisSchedule({ seed: SEED, kinds: [], durationMs: 120_000 }), []);
});

t.test('crashes hit a minority or everything; flaps cut for less than an election timeout', async (t) => {
  const steps = nemesisSchedule({ seed: SEED, kinds: ['crash', 'flap'], durationMs: 300_000 });
  const groups = new Set(steps.flatMap((s) => (s.fault.kind === 'crash' ? [s.fault.group] : [])));
  t.same([...groups].sort(), ['all', 'minority'], 'both crash groups drawn');
  const flaps = steps.flatMap((s) => (s.fault.kind === 'flap' ? [s.fault] : []));
  t.ok(flaps.length > 0, `${flaps.length} flaps`);
  // meta's election timeout is drawn from 1–2 s: a cut must stay below its low end.
  t.ok(flaps.every((f) => f.cutMs < 1000 && f.openMs > 0), 'every cut shorter than 1 s');
  t.same(new Set(flaps.map((f) => f.target)), new Set(['meta-leader', 'primary']), 'both flap targets drawn');
});

t.test('reordering jitters one primary or every node, for a bounded time', async (t) => {
  const steps = nemesisSchedule({ seed: SEED, kinds: ['reorder'], durationMs: 300_000 });
  const faults = steps.flatMap((s) => (s.fault.kind === 'reorder' ? [s.fault] : []));
  t.equal(faults.length, steps.length, 'only reorder faults');
  t.same(new Set(faults.map((f) => f.target)), new Set(['primary', 'nodes']), 'both targets drawn');
  t.ok(faults.every((f) => f.jitterMs >= 50 && f.jitterMs <= 1000), 'jitter within 50–1000 ms');
});

t.test('the classic kinds draw the same schedule whatever other kinds exist', async (t) => {
  // Seeds reported before crash and flap existed must replay the same faults.
  const steps = nemesisSchedule({ seed: 7, kinds: ['kill', 'pause', 'partition'], durationMs: 30_000 });
  t.same(steps.map((s) => s.fault.kind === 'partition' ? s.fault.shape : `${s.fault.kind} ${'target' in s.fault ? s.fault.target : ''}`),
    ['pause meta-follower', 'kill replica', 'kill sentinel', 'isolate-meta-leader', 'kill primary']);
});

t.test('bridges hold for a bounded time and heal before the end', async (t) => {
  const steps = nemesisSchedule({ seed: SEED, kinds: ['bridge'], durationMs: 60_000 });
  t.ok(steps.length > 0 && steps.every((s) => s.fault.kind === 'bridge'), `${steps.length} bridges`);
  const last = steps[steps.length - 1]!;
  t.ok(last.at + last.holdMs <= 60_000, 'the last bridge heals before the end');
});

t.test('links draws every link shape both ways, and only when asked for', async (t) => {
  const steps = nemesisSchedule({ seed: SEED, kinds: ['links'], durationMs: 600_000 });
  const faults = steps.flatMap((s) => (s.fault.kind === 'links' ? [s.fault] : []));
  t.equal(faults.length, steps.length, 'only links faults');
  t.same(new Set(faults.map((f) => f.shape)), new Set(LINK_SHAPES), 'every shape drawn');
  t.same(new Set(faults.map((f) => f.ways)), new Set(['one', 'both']), 'one way and both ways drawn');
  t.ok(faults.every((f) => (f.shape === 'primary-replica-delay' ? f.delayMs >= 100 && f.delayMs <= 1500 : f.delayMs === 0)), 'delays only on the delay shape, 0.1–1.5 s');
  t.ok(steps.every((s) => s.holdMs >= 2500 && s.holdMs <= 7000), 'each holds 2.5–7 s');
  const classic = nemesisSchedule({ seed: SEED, kinds: ['kill', 'pause', 'partition'], durationMs: 600_000 });
  t.notOk(classic.some((s) => s.fault.kind === 'links'), 'the partition kind never draws a link shape');
  t.same(describeFault({ kind: 'links', shape: 'primary-replica-cut', ways: 'one', delayMs: 0 }), 'primary-replica-cut one way');
});

t.test('cover: the first steps take every kind once; without it, old seeds replay unchanged', async (t) => {
  const kinds: FaultKind[] = ['kill', 'partition', 'duplicate', 'bridge', 'flap', 'reorder'];
  const plain = nemesisSchedule({ seed: SEED, kinds, durationMs: 120_000 });
  t.same(nemesisSchedule({ seed: SEED, kinds, durationMs: 120_000, cover: false }), plain, 'cover off is the old schedule');
  for (let seed = SEED; seed < SEED + 20; seed++) {
    const steps = nemesisSchedule({ seed, kinds, durationMs: 120_000, cover: true });
    t.same(new Set(steps.slice(0, kinds.length).map((s) => s.fault.kind)), new Set(kinds), `seed ${seed}: each kind once first`);
  }
});
