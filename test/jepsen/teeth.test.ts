// The checks have teeth: a short run without faults in which the harness loses one
// acknowledged add and writes a register value behind the history's back must end
// INVALID, with each check naming what broke; so must a run whose exactly-once clients
// re-send adds under fresh sequences. JEPSEN_TEETH_SEED=<n> runs another seed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runJepsen } from './run.js';

const SEED = Number(process.env['JEPSEN_TEETH_SEED'] ?? 11);
const TIME_MS = 6000;

t.test(`a lost acknowledged add and a phantom register value are caught (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  const out = await mkdtemp(join(tmpdir(), `opera-jepsen-teeth-${SEED}-`));
  t.comment(`seed ${SEED}; results in ${out}`);
  const report = await runJepsen({
    seed: SEED, timeMs: TIME_MS, workloads: ['register', 'set'], nemesis: [], teeth: ['lose-ack', 'phantom-write'], out,
    log: (line) => t.comment(line),
  });
  for (const n of report.notes) t.comment(`note: ${n}`);
  t.comment(report.summary);
  const verdict = (check: string) => report.verdicts.find((v) => v.check === check);
  const register = verdict('register linearizable');
  t.equal(register?.valid, false, `register: ${register?.detail}`);
  t.match(register?.detail ?? '', /teeth-/, 'the witness names the phantom value');
  for (const check of ['set (final read of every key)', 'set (final listing)']) {
    const v = verdict(check);
    t.equal(v?.valid, false, `${check}: ${v?.detail}`);
    t.match(v?.detail ?? '', /lost 1: /, `${check} reports exactly one lost add`);
  }
  t.equal(report.valid, false, 'the run is INVALID');
  t.match(report.summary, /INVALID, lost 1,/, 'the summary line says so');
  await rm(out, { recursive: true, force: true });
});

t.test(`adds re-sent under a fresh sequence are caught (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  const out = await mkdtemp(join(tmpdir(), `opera-jepsen-teeth-once-${SEED}-`));
  t.comment(`seed ${SEED}; results in ${out}`);
  const report = await runJepsen({
    seed: SEED, timeMs: TIME_MS, workloads: ['exactly-once'], nemesis: [], teeth: ['fresh-seq'], out,
    log: (line) => t.comment(line),
  });
  for (const n of report.notes) t.comment(`note: ${n}`);
  t.comment(report.summary);
  const v = report.verdicts.find((x) => x.check === 'exactly-once counters');
  t.equal(v?.valid, false, `exactly-once: ${v?.detail}`);
  t.match(v?.detail ?? '', /retries of one add answered different values/, 'the re-sent adds were answered new values');
  t.match(v?.detail ?? '', /exceeds the \d+ adds attempted/, 'the final value counts adds nobody attempted');
  t.equal(report.valid, false, 'the run is INVALID');
  t.match(report.summary, /INVALID/);
  await rm(out, { recursive: true, force: true });
});
