// Runs a block of simulator seeds as one tap test: no violation, no stuck schedule.
import type { Test } from 'tap';
import { runSchedule } from '../../../src/raft/sim/run.js';

export const SEEDS = 1000;
const FROM = Number(process.env['OPERA_SIM_FROM'] ?? 1);

export function scheduleTest(t: Test, members: number): Promise<void> {
  return t.test(`${SEEDS} schedules with ${members} members (seeds ${FROM}..${FROM + SEEDS - 1})`, async (t) => {
    const bad: string[] = [];
    let acked = 0;
    for (let seed = FROM; seed < FROM + SEEDS; seed++) {
      const r = runSchedule({ seed, members, steps: 8 });
      acked += r.acked;
      if (r.violations.length > 0) bad.push(`seed ${seed}: ${r.violations[0]!.property} at step ${r.violationStep}: ${r.violations[0]!.detail}`);
      else if (r.stuck) bad.push(`seed ${seed}: stuck after heal: ${r.stuck}`);
    }
    t.same(bad, [], `replay with: npm run sim -- --seeds 1 --from <seed> --members ${members} --steps 8 --verbose`);
    // The workload must really have run: clients got writes acknowledged under faults.
    t.ok(acked > SEEDS * 50, `clients had ${acked} writes acknowledged`);
  }).then(() => undefined);
}
