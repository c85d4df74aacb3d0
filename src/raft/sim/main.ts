// `npm run sim -- --seeds N [--from S] [--members 3|5] [--steps K] [--unsafe double-vote|old-term] [--verbose]`
import { parseArgs } from 'node:util';
import { runSchedule } from './run.js';

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      from: { type: 'string', default: '1' },
      members: { type: 'string', default: '3' },
      steps: { type: 'string', default: '10' },
      unsafe: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const seeds = Number(values.seeds);
  const from = Number(values.from);
  const members = Number(values.members);
  const steps = Number(values.steps);
  if (!Number.isSafeInteger(seeds) || seeds < 1) return usage('--seeds must be a positive integer');
  if (!Number.isSafeInteger(from) || from < 0) return usage('--from must be a non-negative integer');
  if (members !== 3 && members !== 5) return usage('--members must be 3 or 5');
  if (!Number.isSafeInteger(steps) || steps < 0) return usage('--steps must be a non-negative integer');
  const unsafe = values.unsafe;
  if (unsafe !== undefined && unsafe !== 'double-vote' && unsafe !== 'old-term') {
    return usage('--unsafe must be double-vote or old-term');
  }
  const unsafeTestFaults = unsafe === 'double-vote' ? { doubleCountVotes: true } : unsafe === 'old-term' ? { commitOldTerms: true } : undefined;

  const started = Date.now();
  let violations = 0;
  let stuck = 0;
  for (let seed = from; seed < from + seeds; seed++) {
    const r = runSchedule({ seed, members, steps, unsafeTestFaults });
    if (r.violations.length > 0) {
      violations++;
      const v = r.violations[0]!;
      console.log(`seed ${seed}: VIOLATION ${v.property} at step ${r.violationStep}: ${v.detail}`);
      if (values.verbose) for (const line of r.nemesisLog) console.log(`  ${line}`);
    } else if (r.stuck) {
      stuck++;
      console.log(`seed ${seed}: STUCK after heal: ${r.stuck}`);
      if (values.verbose) for (const line of r.nemesisLog) console.log(`  ${line}`);
    } else if (values.verbose) {
      console.log(`seed ${seed}: ok, ${r.acked} writes acknowledged, ${r.events} events`);
    }
  }
  console.log(`sim: ${seeds} seeds, ${violations} violations, ${stuck} stuck, ${Date.now() - started} ms`);
  return violations > 0 || stuck > 0 ? 1 : 0;
}

function usage(msg: string): number {
  console.error(`sim: ${msg}`);
  console.error('usage: npm run sim -- --seeds N [--from S] [--members 3|5] [--steps K] [--unsafe double-vote|old-term] [--verbose]');
  return 2;
}

process.exitCode = main();
