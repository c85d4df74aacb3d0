// The quick pass of the newer workloads in `npm test`: five meta members; the
// exactly-once counter workload and the meta workload (members added, promoted, removed,
// the leader too; leadership moved; a storage node joins, drains and leaves) under kills,
// partitions, duplicated Raft messages, a bridge, flapping links and reordering, each
// scheduled at least once (the schedule covers every kind first); every check must hold. The seed is
// fixed and printed; JEPSEN_MEMBERSHIP_SEED=<n> runs another one. The results folder is
// kept on failure.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { nemesisSchedule, type FaultKind } from './nemesis/schedule.js';
import { runJepsen } from './run.js';

const SEED = Number(process.env['JEPSEN_MEMBERSHIP_SEED'] ?? 13);
const TIME_MS = Number(process.env['JEPSEN_MEMBERSHIP_TIME_MS'] ?? 45_000);
const NEMESIS: FaultKind[] = ['kill', 'partition', 'duplicate', 'bridge', 'flap', 'reorder'];

t.test(`exactly-once and meta membership under ${NEMESIS.join(', ')}, 5 members (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  const planned = new Set(nemesisSchedule({ seed: SEED, kinds: NEMESIS, durationMs: TIME_MS, cover: true }).map((s) => s.fault.kind));
  t.same([...planned].sort(), [...NEMESIS].sort(), 'the schedule holds every kind of fault');
  const out = await mkdtemp(join(tmpdir(), `opera-jepsen-membership-${SEED}-`));
  t.comment(`seed ${SEED}; results in ${out}`);
  const report = await runJepsen({
    seed: SEED, timeMs: TIME_MS, workloads: ['exactly-once', 'meta'], nemesis: NEMESIS, coverKinds: true, metaSize: 5, out,
    log: (line) => t.comment(line),
  });
  for (const n of report.notes) t.comment(`note: ${n}`);
  t.comment(report.summary);
  for (const v of report.verdicts) t.equal(v.valid, true, `${v.check}: ${v.detail}`);
  for (const check of ['exactly-once counters', 'meta one leader per term', 'meta one primary per partition epoch', 'meta members converge']) {
    t.ok(report.verdicts.some((v) => v.check === check), `${check} was checked`);
  }
  t.ok(report.ops > 0, `${report.ops} operations`);
  const once = report.verdicts.find((v) => v.check === 'exactly-once counters');
  t.match(once?.detail ?? '', /^[1-9]\d* adds retried after an unknown outcome, [1-9]\d* sent twice on purpose/, 'adds were retried after lost answers and sent twice');
  if (report.valid) await rm(out, { recursive: true, force: true });
  else t.comment(`kept ${out} (replay with npm run jepsen -- --seed ${SEED} --time ${TIME_MS / 1000}s --meta 5 --workload exactly-once,meta --nemesis ${NEMESIS.join(',')} --cover)`);
});
