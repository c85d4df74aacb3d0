// What a sentinel submits to meta, for every meta state, every view of its own and every
// combination of other sentinels' observations (up to four sentinels, quorum 1 to 3).
import t from 'tap';
import type { NodeHealth } from '../../src/gateway/live-store/index.js';
import { NODE_STATES, type NodeState } from '../../src/meta/types.js';
import { countVotes, verdict, type Verdict } from '../../src/sentinel/verdict.js';

const HEALTH: NodeHealth[] = ['up', 'suspect', 'down'];

/** Meta's rules (docs/meta-state.md), written out independently of src/meta/nodes.ts. */
const META_ALLOWS: Record<NodeState, string[]> = {
  joining: ['up', 'suspect', 'down', 'draining', 'removed'],
  up: ['suspect', 'down', 'draining', 'removed'],
  suspect: ['up', 'down', 'draining', 'removed'],
  down: ['up', 'removed'],
  draining: ['up', 'down', 'removed'],
  removed: [],
};

const obs = (...states: NodeHealth[]): { sentinelId: string; state: NodeHealth }[] => states.map((state, i) => ({ sentinelId: `s${i}`, state }));

/** Every list of other sentinels' views, 0 to 3 of them. */
function others(): NodeHealth[][] {
  const out: NodeHealth[][] = [[]];
  for (let n = 1; n <= 3; n++) {
    const prev = out.filter((o) => o.length === n - 1);
    for (const p of prev) for (const h of HEALTH) out.push([...p, h]);
  }
  return out;
}

t.test('the plain cases', async (t) => {
  t.same(verdict({ meta: 'up', local: 'down', observations: obs('down'), quorum: 1 })?.state, 'down');
  t.same(verdict({ meta: 'up', local: 'suspect', observations: obs('suspect'), quorum: 1 })?.state, 'suspect');
  t.same(verdict({ meta: 'suspect', local: 'up', observations: obs('up'), quorum: 1 })?.state, 'up');
  t.same(verdict({ meta: 'down', local: 'up', observations: obs('up'), quorum: 1 })?.state, 'up');
  t.equal(verdict({ meta: 'up', local: 'up', observations: obs('up'), quorum: 1 }), null);
  t.equal(verdict({ meta: 'down', local: 'down', observations: obs('down'), quorum: 1 }), null, 'already down');
  t.equal(verdict({ meta: 'suspect', local: 'suspect', observations: obs('suspect'), quorum: 1 }), null, 'already suspect');
  t.match(verdict({ meta: 'suspect', local: 'down', observations: obs('down', 'down'), quorum: 2 }), { state: 'down', reason: /2 of quorum 2/ });
});

t.test('quorum: one sentinel alone cannot take a node down, or make it suspect', async (t) => {
  t.equal(verdict({ meta: 'up', local: 'down', observations: obs('down', 'up'), quorum: 2 }), null);
  t.equal(verdict({ meta: 'up', local: 'down', observations: obs('down'), quorum: 2 }), null, 'the other sentinel is not reporting');
  t.equal(verdict({ meta: 'up', local: 'suspect', observations: obs('suspect', 'up', 'up'), quorum: 2 }), null);
  t.same(verdict({ meta: 'up', local: 'down', observations: obs('down', 'suspect'), quorum: 2 })?.state, 'suspect', 'suspect by two, down by one');
  t.same(verdict({ meta: 'up', local: 'down', observations: obs('down', 'down', 'up'), quorum: 2 })?.state, 'down');
});

t.test('draining and joining nodes only ever go down', async (t) => {
  for (const meta of ['draining', 'joining'] as const) {
    t.same(verdict({ meta, local: 'down', observations: obs('down'), quorum: 1 })?.state, 'down', `${meta} -> down`);
    t.equal(verdict({ meta, local: 'suspect', observations: obs('suspect'), quorum: 1 }), null, `${meta} is never made suspect`);
    t.equal(verdict({ meta, local: 'up', observations: obs('up'), quorum: 1 }), null, `${meta} is never made up`);
  }
});

t.test('removed nodes are left alone', async (t) => {
  for (const local of HEALTH) t.equal(verdict({ meta: 'removed', local, observations: obs(local), quorum: 1 }), null);
});

t.test('a sentinel listed twice votes once', async (t) => {
  t.same(countVotes([{ sentinelId: 'a', state: 'down' }, { sentinelId: 'a', state: 'down' }]), { down: 1, failing: 1 });
  t.equal(verdict({ meta: 'up', local: 'down', observations: [{ sentinelId: 'a', state: 'down' }, { sentinelId: 'a', state: 'down' }], quorum: 2 }), null);
});

t.test('a quorum must be a positive integer', async (t) => {
  t.throws(() => verdict({ meta: 'up', local: 'down', observations: [], quorum: 0 }), RangeError);
  t.throws(() => verdict({ meta: 'up', local: 'down', observations: [], quorum: 1.5 }), RangeError);
});

t.test('exhaustively: meta always accepts the verdict, and quorum rules hold', async (t) => {
  let cases = 0;
  for (const meta of NODE_STATES) {
    for (const local of HEALTH) {
      for (const rest of others()) {
        // This sentinel's own observation is in the list, as the shell reports before it reads.
        const observations = obs(local, ...rest);
        for (let quorum = 1; quorum <= 3; quorum++) {
          cases++;
          const v = verdict({ meta, local, observations, quorum });
          if (v === null) continue;
          const where = `meta ${meta}, local ${local}, others [${rest.join(',')}], quorum ${quorum}: ${v.state}`;
          const down = observations.filter((o) => o.state === 'down').length;
          const failing = observations.filter((o) => o.state !== 'up').length;
          if (!META_ALLOWS[meta].includes(v.state)) t.fail(`meta would refuse: ${where}`);
          if (v.state === 'down' && (local !== 'down' || down < quorum)) t.fail(`down without a quorum: ${where}`);
          if (v.state === 'suspect' && (local === 'up' || failing < quorum)) t.fail(`suspect without a quorum: ${where}`);
          if (v.state === 'up' && (local !== 'up' || failing >= quorum)) t.fail(`up against a quorum: ${where}`);
          if (meta === 'draining' && v.state !== 'down') t.fail(`a drain would end: ${where}`);
          if (meta === 'joining' && v.state !== 'down') t.fail(`a joining node changed by a sentinel: ${where}`);
        }
      }
    }
  }
  t.ok(cases > 1000, `${cases} cases`);
});

t.test('exhaustively: sentinels that read the same observations never push a node in opposite directions', async (t) => {
  const opposite = (a: Verdict | null, b: Verdict | null): boolean =>
    a !== null && b !== null && ((a.state === 'up') !== (b.state === 'up'));
  for (const meta of NODE_STATES) {
    for (const rest of others()) {
      if (rest.length < 2) continue;
      for (let quorum = 1; quorum <= 3; quorum++) {
        // Each listed sentinel decides from its own view and the shared list.
        const observations = obs(...rest);
        const verdicts = rest.map((local) => verdict({ meta, local, observations, quorum }));
        for (const a of verdicts) for (const b of verdicts) {
          if (opposite(a, b)) t.fail(`meta ${meta}, views [${rest.join(',')}], quorum ${quorum}: ${a!.state} vs ${b!.state}`);
        }
      }
    }
  }
  t.pass('no two sentinels fight');
});
