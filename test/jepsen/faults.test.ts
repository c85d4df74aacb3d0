// The quick pass of the newer fault families in `npm test`: a real cluster under clock
// skew and drift (libfaketime), slow fsyncs, crashes of every process and damaged files,
// with the durability and register workloads; every check must hold. The seed is fixed
// and printed; JEPSEN_FAULTS_SEED=<n> and JEPSEN_FAULTS_TIME_MS=<ms> run another pass. The
// results folder is kept on failure. Without libfaketime the test is skipped, saying so.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { findFaketimeLibrary } from './nemesis/clock.js';
import { runJepsen } from './run.js';

const SEED = Number(process.env['JEPSEN_FAULTS_SEED'] ?? 2989);
const TIME_MS = Number(process.env['JEPSEN_FAULTS_TIME_MS'] ?? 30_000);
const NEMESIS = ['clock', 'slow-disk', 'crash', 'storage'] as const;

t.test(`durability and register under clock, slow-disk, crash and storage faults (seed ${SEED})`, {
  timeout: 600_000,
  skip: findFaketimeLibrary() === null ? 'libfaketime is not installed (apt-get install faketime)' : false,
}, async (t) => {
  const out = await mkdtemp(join(tmpdir(), `opera-jepsen-faults-${SEED}-`));
  t.comment(`seed ${SEED}; results in ${out}`);
  const report = await runJepsen({
    seed: SEED, timeMs: TIME_MS, workloads: ['durability', 'register'], nemesis: NEMESIS, out, log: (line) => t.comment(line),
  });
  for (const n of report.notes) t.comment(`note: ${n}`);
  t.comment(report.summary);
  for (const v of report.verdicts) t.equal(v.valid, true, `${v.check}: ${v.detail}`);
  const names = report.verdicts.map((v) => v.check);
  t.ok(names.some((n) => n.startsWith('durability')), 'the durability check ran');
  const storage = report.verdicts.find((v) => v.check.startsWith('storage faults'));
  t.ok(storage, 'the storage checks ran');
  t.match(storage?.detail ?? '', /: ok \(/, 'at least one storage fault was applied, and its victim did what it must');
  t.ok(names.includes('register linearizable'), 'the register history was checked');
  t.ok(report.ops > 0, `${report.ops} operations`);
  if (report.valid) await rm(out, { recursive: true, force: true });
  else t.comment(`kept ${out} (replay with npm run jepsen -- --seed ${SEED} --time ${TIME_MS / 1000}s --workload durability,register --nemesis ${NEMESIS.join(',')})`);
});
