// Runs seeded schedules: faults for a number of nemesis steps, then a healed network in
// which a leader must emerge and every member must apply every committed command.
import type { RaftOptions } from '../node.js';
import { SimClient } from './clients.js';
import { Nemesis } from './nemesis.js';
import type { Violation } from './safety.js';
import { World } from './world.js';

export interface ScheduleOptions {
  readonly seed: number;
  readonly members: number;
  /** Nemesis steps (one fault change each) before the network heals. */
  readonly steps: number;
  readonly unsafeTestFaults?: RaftOptions['unsafeTestFaults'];
}

export interface ScheduleResult {
  readonly seed: number;
  readonly violations: Violation[];
  readonly violationStep: number | null;
  readonly stuck: string | null;
  readonly acked: number;
  readonly events: number;
  readonly nemesisLog: string[];
}

const HEAL_DEADLINE_MS = 10_000;

export function runSchedule(opts: ScheduleOptions): ScheduleResult {
  const world = new World(opts);
  const nemesis = new Nemesis(world);
  const clients = ['c1', 'c2', 'c3'].map((id) => new SimClient(world, id));
  for (const c of clients) c.start();
  const promote = (): void => {
    nemesis.promoteCaughtUp();
    world.queue.push(world.now + 100, promote);
  };
  world.queue.push(100, promote);

  for (let step = 0; step < opts.steps && world.safety.violations.length === 0; step++) {
    world.run(world.now + world.rng.int(200, 1200));
    nemesis.step();
  }
  world.run(world.now + world.rng.int(200, 1200));

  // Heal: everything reconnects and restarts, clients stop issuing new work.
  for (const c of clients) c.stopped = true;
  world.net.heal();
  for (const m of world.members.values()) world.restart(m);
  let stuck: string | null = 'no leader with every member caught up';
  const deadline = world.now + HEAL_DEADLINE_MS;
  while (world.now < deadline && world.safety.violations.length === 0) {
    world.run(world.now + 100);
    const why = unconverged(world);
    if (why === null) {
      stuck = null;
      break;
    }
    stuck = why;
  }
  if (world.safety.violations.length > 0) stuck = null;
  return {
    seed: opts.seed,
    violations: world.safety.violations,
    violationStep: world.firstViolationAt?.step ?? null,
    stuck,
    acked: clients.reduce((n, c) => n + c.acked, 0),
    events: world.steps,
    nemesisLog: nemesis.log,
  };
}

/** Why the healed cluster has not converged yet, or null when it has. */
function unconverged(world: World): string | null {
  const l = world.leader();
  if (!l) return 'no leader';
  const c = l.core;
  if (c.log.termAt(c.log.committed) !== c.term) return `leader ${l.id} has not committed in its term ${c.term}`;
  if (c.log.committed < world.safety.maxCommitted) return `leader ${l.id} commit ${c.log.committed} < committed ${world.safety.maxCommitted}`;
  for (const id of [...c.config.voters, ...c.config.learners]) {
    const m = world.members.get(id);
    if (!m || !m.alive) return `member ${id} is down`;
    if (m.sm.applied !== c.log.committed) return `member ${id} applied ${m.sm.applied} of ${c.log.committed}`;
  }
  return null;
}
