// The pure failure detector: scripted timelines for each behaviour, then seeded random
// timelines checked against the rules every change must follow. Override the seed with
// SENTINEL_TEST_SEED.
import t from 'tap';
import {
  checkDetectorSettings, newDetector, step,
  type DetectorEvent, type DetectorSettings, type DetectorState, type HealthChange, type NodeHealth,
} from '../../src/sentinel/detector.js';
import { prng } from '../meta/helpers.js';

const S: DetectorSettings = { suspectAfterMisses: 3, downAfterMs: 5000, recoverAfterSuccesses: 2, minStateMs: 2000 };

const ok = (atMs: number): DetectorEvent => ({ type: 'success', atMs });
const refused = (atMs: number): DetectorEvent => ({ type: 'miss', atMs, reason: 'refused' });
const slow = (atMs: number): DetectorEvent => ({ type: 'miss', atMs, reason: 'timeout' });

function run(events: DetectorEvent[], settings = S, initial: NodeHealth = 'up', start = 0): { state: DetectorState; changes: HealthChange[] } {
  let state = newDetector(initial, start);
  const changes: HealthChange[] = [];
  for (const e of events) {
    const out = step(state, e, settings);
    state = out.state;
    if (out.change) changes.push(out.change);
  }
  return { state, changes };
}

/** One event per second from `from` (inclusive) to `to` (exclusive), made by `make`. */
function every(from: number, to: number, make: (atMs: number) => DetectorEvent, gap = 1000): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (let at = from; at < to; at += gap) out.push(make(at));
  return out;
}

const summary = (changes: HealthChange[]): string[] => changes.map((c) => `${c.to}@${c.atMs}`);

t.test('a node that always answers stays up', async (t) => {
  const { state, changes } = run(every(1000, 60_000, ok));
  t.same(changes, []);
  t.equal(state.health, 'up');
  t.equal(state.misses, 0);
});

t.test('refused connections: suspect after N misses, down after the confirmation period', async (t) => {
  const { changes, state } = run(every(1000, 10_000, refused));
  // First miss at 1 s: suspect at the third (3 s); down once unreachable for 5 s (6 s).
  t.same(summary(changes), ['suspect@3000', 'down@6000']);
  t.equal(changes[1]!.from, 'suspect');
  t.match(changes[1]!.reason, /unreachable for 5000 ms/);
  t.equal(state.health, 'down');
});

t.test('slow answers (timeouts) count exactly like refusals', async (t) => {
  t.same(summary(run(every(1000, 10_000, slow)).changes), ['suspect@3000', 'down@6000']);
  const mixed = every(1000, 10_000, (at) => ((at / 1000) % 2 === 0 ? slow(at) : refused(at)));
  t.same(summary(run(mixed).changes), ['suspect@3000', 'down@6000']);
});

t.test('a pause shorter than the confirmation period is never down', async (t) => {
  // Unreachable from 1 s to 4.9 s (first miss at 1 s, last at 4 s), answering again at 5 s.
  const events = [...every(1000, 5000, slow), ...every(5000, 20_000, ok)];
  const { changes, state } = run(events);
  t.same(summary(changes), ['suspect@3000', 'up@6000'], 'suspect, then up after two answers; never down');
  t.equal(state.health, 'up');
});

t.test('a pause just longer than the confirmation period is down', async (t) => {
  const events = [...every(1000, 7000, slow), ...every(7000, 20_000, ok)];
  const { changes } = run(events);
  t.same(summary(changes), ['suspect@3000', 'down@6000', 'up@8000'], 'down at 6 s, then back up after two answers');
});

t.test('the confirmation period counts from the first miss of the current run only', async (t) => {
  // Misses 1-4 s, one answer at 5 s, misses again from 6 s: the clock restarts at 6 s.
  const events = [...every(1000, 5000, refused), ok(5000), ...every(6000, 20_000, refused)];
  const { changes } = run(events);
  t.same(summary(changes), ['suspect@3000', 'down@11000']);
});

t.test('flapping is damped', async (t) => {
  t.test('alternating answers and misses never make a node suspect', async (t) => {
    const events = every(1000, 120_000, (at) => ((at / 1000) % 2 === 0 ? ok(at) : refused(at)));
    t.same(run(events).changes, []);
  });
  t.test('two misses in three never either', async (t) => {
    const events = every(1000, 120_000, (at) => ((at / 1000) % 3 === 0 ? ok(at) : refused(at)));
    t.same(run(events).changes, []);
  });
  t.test('bursts of misses with single answers: suspect once, then neither down nor up', async (t) => {
    // 3 misses, 1 answer, repeated: the answer restarts the confirmation period, and one
    // answer is not enough to be trusted again.
    const events = every(1000, 120_000, (at) => ((at / 1000) % 4 === 0 ? ok(at) : refused(at)));
    t.same(summary(run(events).changes), ['suspect@3000']);
  });
  t.test('a minimum time between two changes of one node', async (t) => {
    const quick: DetectorSettings = { suspectAfterMisses: 1, downAfterMs: 0, recoverAfterSuccesses: 1, minStateMs: 2000 };
    // Every event would change the state at once without the minimum time.
    const events = every(100, 10_000, (at) => (Math.floor(at / 700) % 2 === 0 ? refused(at) : ok(at)), 100);
    const { changes } = run(events, quick);
    t.ok(changes.length > 0);
    let last = 0;
    for (const c of changes) {
      t.ok(c.atMs - last >= 2000, `${c.to} at ${c.atMs} is at least 2 s after the previous change (${last})`);
      last = c.atMs;
    }
  });
  t.test('a node that just recovered is not suspected again before the minimum time', async (t) => {
    const events = [...every(1000, 7000, refused), ok(7000), ok(8000), ...every(8100, 20_000, refused, 100)];
    const { changes } = run(events);
    t.same(summary(changes).slice(0, 3), ['suspect@3000', 'down@6000', 'up@8000']);
    // Three misses by 8.3 s, but the earliest next change is 10 s.
    t.equal(changes[3]!.to, 'suspect');
    t.equal(changes[3]!.atMs, 10_000);
  });
});

t.test('recovery: a down node comes back up after enough answers in a row', async (t) => {
  const events = [...every(1000, 10_000, refused), ok(10_000), refused(11_000), ok(12_000), ok(13_000)];
  const { changes } = run(events);
  t.same(summary(changes), ['suspect@3000', 'down@6000', 'up@13000'], 'a single answer between misses is not enough');
});

t.test('a suspect node that answers steadily is up again', async (t) => {
  const events = [...every(1000, 4000, refused), ...every(4000, 6000, ok)];
  t.same(summary(run(events).changes), ['suspect@3000', 'up@5000']);
});

t.test('heartbeats and probes are the same evidence; a down node never becomes suspect', async (t) => {
  const { changes, state } = run(every(1000, 30_000, refused), S, 'down');
  t.same(changes, [], 'a node that starts down and keeps missing stays down');
  t.equal(state.misses, 29);
  const back = run([refused(1000), ok(2000), ok(2500)], S, 'down');
  t.same(summary(back.changes), ['up@2500']);
});

t.test('a detector that starts suspect (as meta had it) goes down after the confirmation period', async (t) => {
  const { changes } = run(every(1000, 10_000, slow), S, 'suspect');
  t.same(summary(changes), ['down@6000']);
});

t.test('time never runs backwards: a late event counts at the latest time seen', async (t) => {
  const { changes, state } = run([refused(5000), refused(1000), refused(1000), refused(12_000)]);
  // The late misses count at 5 s: suspect at 5 s (three misses), down at 12 s.
  t.same(summary(changes), ['suspect@5000', 'down@12000']);
  t.equal(state.clock, 12_000);
  t.equal(state.unreachableSince, 5000);
});

t.test('the input state is never modified', async (t) => {
  const before = newDetector('up', 0);
  const frozen = Object.freeze({ ...before });
  step(frozen, refused(1000), S);
  t.same(frozen, before);
});

t.test('zero confirmation and zero minimum time: suspect then down on consecutive misses', async (t) => {
  const eager: DetectorSettings = { suspectAfterMisses: 1, downAfterMs: 0, recoverAfterSuccesses: 1, minStateMs: 0 };
  t.same(summary(run([refused(1), refused(2), ok(3)], eager).changes), ['suspect@1', 'down@2', 'up@3']);
});

t.test('settings are checked', async (t) => {
  t.throws(() => checkDetectorSettings({ ...S, suspectAfterMisses: 0 }), /suspectAfterMisses/);
  t.throws(() => checkDetectorSettings({ ...S, recoverAfterSuccesses: 1.5 }), /recoverAfterSuccesses/);
  t.throws(() => checkDetectorSettings({ ...S, downAfterMs: -1 }), /downAfterMs/);
  t.throws(() => checkDetectorSettings({ ...S, minStateMs: Number.NaN }), /minStateMs/);
  t.equal(checkDetectorSettings(S), S);
});

t.test('seeded random timelines obey every rule', async (t) => {
  const seed = Number(process.env['SENTINEL_TEST_SEED'] ?? 20240611);
  const rand = prng(seed);
  const ALLOWED: Record<NodeHealth, NodeHealth[]> = { up: ['suspect'], suspect: ['down', 'up'], down: ['up'] };
  let checked = 0;
  const seen = new Set<string>();
  for (let run = 0; run < 400; run++) {
    const settings: DetectorSettings = {
      suspectAfterMisses: 1 + Math.floor(rand() * 4),
      downAfterMs: Math.floor(rand() * 4000),
      recoverAfterSuccesses: 1 + Math.floor(rand() * 4),
      minStateMs: Math.floor(rand() * 3000),
    };
    const initial = (['up', 'suspect', 'down'] as const)[Math.floor(rand() * 3)]!;
    let state = newDetector(initial, 0);
    let lastChange = 0;
    let lastSuccess = Number.NEGATIVE_INFINITY;
    let firstMissOfRun: number | null = null;
    const recent: ('ok' | 'miss')[] = [];
    // Phases of mostly-failing and mostly-answering, as real outages and flaps look.
    let failing = rand() < 0.5;
    let at = 0;
    for (let i = 0; i < 200; i++) {
      if (rand() < 0.08) failing = !failing;
      at += rand() < 0.05 ? -Math.floor(rand() * 500) : Math.floor(rand() * 700);
      const good = failing ? rand() < 0.1 : rand() < 0.9;
      const event: DetectorEvent = good ? ok(Math.max(0, at)) : { type: 'miss', atMs: Math.max(0, at), reason: rand() < 0.5 ? 'timeout' : 'refused' };
      const out = step(state, event, settings);
      const now = out.state.clock;
      if (now < state.clock) t.fail(`seed ${seed} run ${run} event ${i}: the clock went back`);
      recent.push(good ? 'ok' : 'miss');
      if (good) {
        lastSuccess = now;
        firstMissOfRun = null;
      } else firstMissOfRun ??= now;
      if (out.change) {
        const c = out.change;
        const where = `seed ${seed} run ${run} event ${i}: ${c.from}->${c.to} at ${c.atMs}`;
        seen.add(`${c.from}->${c.to}`);
        if (!ALLOWED[c.from].includes(c.to)) t.fail(`forbidden transition, ${where}`);
        if (c.atMs - lastChange < settings.minStateMs) t.fail(`changed too soon, ${where}`);
        if (c.to === 'suspect' && !recent.slice(-settings.suspectAfterMisses).every((r) => r === 'miss')) t.fail(`suspect without N misses, ${where}`);
        if (c.to === 'up' && !recent.slice(-settings.recoverAfterSuccesses).every((r) => r === 'ok')) t.fail(`up without R answers, ${where}`);
        if (c.to === 'down') {
          if (firstMissOfRun === null || now - firstMissOfRun < settings.downAfterMs) t.fail(`down before the confirmation period, ${where}`);
          if (now - lastSuccess < settings.downAfterMs) t.fail(`down despite a recent answer, ${where}`);
        }
        if (out.state.since !== c.atMs || out.state.health !== c.to) t.fail(`state does not match the change, ${where}`);
        lastChange = c.atMs;
        checked++;
      } else if (out.state.health !== state.health) {
        t.fail(`seed ${seed} run ${run} event ${i}: health changed without a change`);
      }
      state = out.state;
    }
  }
  t.ok(checked > 300, `${checked} changes checked`);
  t.same([...seen].sort(), ['down->up', 'suspect->down', 'suspect->up', 'up->suspect'], 'every transition happened');
});

t.test('liveness: a dead node is down and a healthy one up within the bounds the settings promise', async (t) => {
  const rand = prng(7);
  for (let i = 0; i < 200; i++) {
    const settings: DetectorSettings = {
      suspectAfterMisses: 1 + Math.floor(rand() * 5),
      downAfterMs: Math.floor(rand() * 10_000),
      recoverAfterSuccesses: 1 + Math.floor(rand() * 5),
      minStateMs: Math.floor(rand() * 5000),
    };
    const gap = 100 + Math.floor(rand() * 1000);
    // Misses from time `gap` on: down no later than N misses + confirmation + 2 × minimum time (+ one gap).
    const bound = gap * (settings.suspectAfterMisses + 1) + settings.downAfterMs + 2 * settings.minStateMs + gap;
    const dead = run(every(gap, bound + gap, refused, gap), settings);
    if (dead.state.health !== 'down') t.fail(`dead node not down within ${bound} ms with ${JSON.stringify(settings)}, gap ${gap}`);
    const healthy = run(every(gap, gap * (settings.recoverAfterSuccesses + 1) + settings.minStateMs + gap, ok, gap), settings, 'down');
    if (healthy.state.health !== 'up') t.fail(`recovered node not up with ${JSON.stringify(settings)}, gap ${gap}`);
  }
  t.pass('200 random settings checked');
});
