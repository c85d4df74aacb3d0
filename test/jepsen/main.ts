// `npm run jepsen`: one run against a real local cluster. Prints the seed first (replay
// a run with --seed), a verdict per check, the results folder, and the summary line.
// Exit code: 0 every check holds, 1 a check is violated, 2 a check could not be decided
// or the run itself failed.
import { randomInt } from 'node:crypto';
import { parseArgs, USAGE } from './args.js';
import { runJepsen } from './run.js';

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2), () => randomInt(0, 2 ** 31));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  console.log(`jepsen: seed ${opts.seed} (replay with --seed ${opts.seed}); results in ${opts.out}`);
  const started = Date.now();
  const report = await runJepsen({ ...opts, log: (line) => console.log(`jepsen: ${line}`) });
  for (const v of report.verdicts) console.log(`  ${v.valid === true ? 'ok     ' : v.valid === false ? 'INVALID' : 'UNKNOWN'}  ${v.check}: ${v.detail}`);
  for (const n of report.notes) console.log(`  note: ${n}`);
  console.log(`jepsen: seed ${report.seed}, ${((Date.now() - started) / 1000).toFixed(0)} s, recovery ${report.recoveryMs ?? 'never'} ms; results in ${report.out}`);
  console.log(report.summary);
  if (report.verdicts.some((v) => v.valid === false)) return 1;
  return report.valid ? 0 : 2;
}

main().then((code) => process.exit(code), (err: Error) => {
  console.error(`jepsen: the run failed: ${err.stack ?? err.message}`);
  process.exit(2);
});
