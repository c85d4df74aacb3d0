// The simulator must have teeth: a deliberately broken Raft is caught within 500 seeds.
import t from 'tap';
import { runSchedule } from '../../../src/raft/sim/run.js';

function firstCaught(members: number, faults: { doubleCountVotes?: boolean; commitOldTerms?: boolean }): number | null {
  for (let seed = 1; seed <= 500; seed++) {
    const r = runSchedule({ seed, members, steps: 8, unsafeTestFaults: faults });
    if (r.violations.length > 0) return seed;
  }
  return null;
}

t.test('a candidate that counts a vote twice is caught (3 members)', async (t) => {
  const seed = firstCaught(3, { doubleCountVotes: true });
  t.not(seed, null, `caught at seed ${seed}`);
});

t.test('a candidate that counts a vote twice is caught (5 members)', async (t) => {
  const seed = firstCaught(5, { doubleCountVotes: true });
  t.not(seed, null, `caught at seed ${seed}`);
});

t.test('the correct core passes the same seeds that catch the bug', async (t) => {
  const seed = firstCaught(3, { doubleCountVotes: true });
  t.not(seed, null);
  const r = runSchedule({ seed: seed!, members: 3, steps: 8 });
  t.same(r.violations, [], `seed ${seed} is clean without the fault`);
  t.equal(r.stuck, null);
});
