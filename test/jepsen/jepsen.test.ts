// The quick Jepsen pass of `npm test`: a real cluster, both workloads, kills, pauses,
// partitions and link cuts (node to node, a process to meta) for half a minute, then
// every check must hold. The seed is fixed and printed; JEPSEN_SEED=<n> runs another
// one. The results folder is kept on failure.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runJepsen } from './run.js';

const SEED = Number(process.env['JEPSEN_SEED'] ?? 7);
const TIME_MS = Number(process.env['JEPSEN_TIME_MS'] ?? 30_000);

t.test(`register and set under kill, pause, partition and links (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  const out = await mkdtemp(join(tmpdir(), `opera-jepsen-${SEED}-`));
  t.comment(`seed ${SEED}; results in ${out}`);
  const report = await runJepsen({
    seed: SEED, timeMs: TIME_MS, workloads: ['register', 'set'], nemesis: ['kill', 'pause', 'partition', 'links'], out,
    log: (line) => t.comment(line),
  });
  for (const n of report.notes) t.comment(`note: ${n}`);
  t.comment(report.summary);
  for (const v of report.verdicts) t.equal(v.valid, true, `${v.check}: ${v.detail}`);
  t.ok(report.verdicts.some((v) => v.check === 'register linearizable'), 'the register history was checked');
  t.equal(report.verdicts.filter((v) => v.check.startsWith('set')).length, 2, 'both final set reads were checked');
  t.ok(report.ops > 0, `${report.ops} operations`);
  if (report.valid) await rm(out, { recursive: true, force: true });
  else t.comment(`kept ${out} (replay with npm run jepsen -- --seed ${SEED} --time ${TIME_MS / 1000}s --nemesis kill,pause,partition,links)`);
});
