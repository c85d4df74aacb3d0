// One Jepsen run: start the cluster, run the workloads and the nemesis for a bounded
// time, heal, wait for recovery, take the final reads, check, save everything.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkHistory, checkSet, HistoryRecorder, monotonicClock, multiRegisterModel } from './checker/index.js';
import type { KeyedRegisterInput, RegisterOutput, SetInput, SetOutput } from './checker/index.js';
import { startJepsenCluster, type ClusterFaultOptions, type JepsenCluster, type MetaSize } from './cluster/cluster.js';
import { Nemesis } from './nemesis/nemesis.js';
import { describeFault, nemesisSchedule, type FaultKind } from './nemesis/schedule.js';
import { writeJson, writeJsonLines } from './results.js';
import { loseAcknowledgedAdd, phantomWrite, type Tooth } from './teeth.js';
import { countOps, exactlyOnceVerdict, registerVerdict, setEventsWith, setVerdict, type Verdict } from './verdicts.js';
import type { WorkloadContext } from './workloads/context.js';
import { runRegisterWorkload } from './workloads/register.js';
import { finalRead, runSetWorkload, type FinalRead } from './workloads/set.js';
import { checkDurability, readBackAll, runDurabilityWorkload, type DurabilityWrite } from './workloads/durability.js';
import { durabilityVerdict, storageVerdict } from './fault-verdicts.js';
import { checkExactlyOnce, type ExactlyOnceInput, type ExactlyOnceOutput } from './checker/exactly-once.js';
import { finalCounterReads, runExactlyOnceWorkload } from './workloads/exactly-once.js';
import { MetaWorkload } from './workloads/meta.js';

export type WorkloadName = 'register' | 'set' | 'exactly-once' | 'durability' | 'meta';
export const WORKLOADS: readonly WorkloadName[] = ['register', 'set', 'exactly-once', 'durability', 'meta'];
/** What a run uses unless told otherwise: the workloads whose seeds have been replayed since the start. */
export const DEFAULT_WORKLOADS: readonly WorkloadName[] = ['register', 'set'];

export interface JepsenOptions {
  readonly seed: number;
  readonly timeMs: number;
  readonly workloads: readonly WorkloadName[];
  readonly nemesis: readonly FaultKind[];
  readonly out: string;
  /** Keep the cluster's data directories (default: only logs and histories stay). */
  readonly keepData?: boolean;
  /** Deliberate breakage the checks must catch (test-only; the run must end INVALID). */
  readonly teeth?: readonly Tooth[];
  /** Meta members (default 3). */
  readonly metaSize?: MetaSize;
  /** Schedule every nemesis kind once before drawing freely (see ScheduleOptions.cover). */
  readonly coverKinds?: boolean;
  readonly log?: (line: string) => void;
}

export interface JepsenReport {
  readonly seed: number;
  readonly out: string;
  readonly verdicts: Verdict[];
  readonly valid: boolean;
  readonly ops: number;
  readonly unknown: number;
  readonly lost: number;
  /** Fraction of the workloads' operations that succeeded. */
  readonly availability: number;
  /** From the last heal to a fully replicated cluster; null if it did not get there in time. */
  readonly recoveryMs: number | null;
  /** Findings that are reported, not asserted (liveness, crashes). */
  readonly notes: string[];
  readonly summary: string;
}

const OP_TIMEOUT_MS = 5000;
const SERVING_TIMEOUT_MS = 90_000;
const FULL_RECOVERY_MS = 30_000;
const FINAL_READ_MS = 60_000;

export async function runJepsen(opts: JepsenOptions): Promise<JepsenReport> {
  const log = opts.log ?? (() => {});
  const schedule = nemesisSchedule({ seed: opts.seed, kinds: opts.nemesis, durationMs: opts.timeMs, cover: opts.coverKinds === true });
  await writeJson(opts.out, 'schedule.json', { seed: opts.seed, timeMs: opts.timeMs, workloads: opts.workloads, nemesis: opts.nemesis, teeth: opts.teeth ?? [], metaSize: opts.metaSize ?? 3, steps: schedule.map((s) => ({ ...s, describe: describeFault(s.fault) })) });
  log(`starting the cluster in ${join(opts.out, 'cluster')}`);
  const cluster = await startJepsenCluster(join(opts.out, 'cluster'), opts.metaSize ?? 3, clusterFaults(opts));
  try {
    return await runOn(cluster, opts, schedule, log);
  } finally {
    await cluster.stop();
    if (!opts.keepData) {
      await rm(join(opts.out, 'cluster', 'meta'), { recursive: true, force: true });
      await rm(join(opts.out, 'cluster', 'nodes'), { recursive: true, force: true });
    }
  }
}

/** What the processes need for the chosen nemeses and workloads (nothing extra for the older ones). */
export function clusterFaults(opts: Pick<JepsenOptions, 'nemesis' | 'workloads'>): ClusterFaultOptions {
  return {
    clock: opts.nemesis.includes('clock'),
    disk: opts.nemesis.includes('slow-disk'),
    // Slow fsyncs need fsyncs; durability is checked with fsync on, as in production.
    fsync: opts.nemesis.includes('slow-disk') || opts.workloads.includes('durability'),
    ...(opts.nemesis.includes('storage') ? { scrubIntervalMs: 5000 } : {}),
    links: opts.nemesis.includes('links'),
  };
}

async function runOn(cluster: JepsenCluster, opts: JepsenOptions, schedule: ReturnType<typeof nemesisSchedule>, log: (line: string) => void): Promise<JepsenReport> {
  await cluster.waitHealthy(60_000);
  const clock = monotonicClock();
  const start = clock();
  const prefix = `jepsen/${opts.seed}-${Date.now().toString(36)}/`;
  const base = { gateway: { url: cluster.gateway, token: cluster.clientToken, timeoutMs: OP_TIMEOUT_MS }, clock, until: start + opts.timeMs, seed: opts.seed, prefix };
  const registerHistory = new HistoryRecorder<KeyedRegisterInput, RegisterOutput>(clock);
  const setHistory = new HistoryRecorder<SetInput<string>, SetOutput<string>>(clock);
  const onceHistory = new HistoryRecorder<ExactlyOnceInput, ExactlyOnceOutput>(clock);
  const metaWork = opts.workloads.includes('meta') ? new MetaWorkload({ cluster, clock, until: base.until, seed: opts.seed, log }) : null;
  log(`running ${opts.workloads.join(' + ')} for ${opts.timeMs / 1000} s with ${schedule.length} faults (${opts.nemesis.join(', ') || 'none'})`);

  const nemesis = new Nemesis(cluster, clock, opts.seed);
  const nemesisDone = nemesis.run(schedule, start, () => clock() >= base.until);
  const work: Promise<void>[] = [];
  if (opts.workloads.includes('register')) work.push(runRegisterWorkload({ ...base, workers: 5 } satisfies WorkloadContext, registerHistory));
  if (opts.workloads.includes('set')) work.push(runSetWorkload({ ...base, workers: 3 }, setHistory));
  if (opts.workloads.includes('exactly-once')) {
    work.push(runExactlyOnceWorkload({ ...base, workers: 4 }, onceHistory, { freshSeq: (opts.teeth ?? []).includes('fresh-seq') }));
  }
  // Membership changes and status samples; they are not client operations (not in ops or availability).
  if (metaWork !== null) work.push(metaWork.run());
  const durabilityWrites: DurabilityWrite[] = [];
  if (opts.workloads.includes('durability')) work.push(runDurabilityWorkload({ ...base, workers: 3 }, durabilityWrites));
  await Promise.all(work);
  await nemesisDone;

  // Safety needs the final reads to be served; full re-replication is reported, not asserted.
  const healedAt = clock();
  let recoveryMs: number | null = null;
  const verdicts: Verdict[] = [];
  const notes: string[] = [];
  try {
    await cluster.waitHealthy(SERVING_TIMEOUT_MS, 'serving');
    log(`healed; serving again after ${Math.round(clock() - healedAt)} ms`);
  } catch (err) {
    notes.push(`not serving after heal: ${(err as Error).message}`);
  }
  try {
    await cluster.waitHealthy(FULL_RECOVERY_MS, 'full');
    recoveryMs = Math.round(clock() - healedAt);
    log(`fully re-replicated ${recoveryMs} ms after heal`);
  } catch (err) {
    notes.push(`not fully re-replicated after heal: ${(err as Error).message}`);
  }

  const teeth = opts.teeth ?? [];
  if (teeth.includes('lose-ack')) notes.push(`teeth: deleted the acknowledged add ${await loseAcknowledgedAdd(base, setHistory)} behind the history`);
  if (teeth.includes('phantom-write')) notes.push(`teeth: wrote the register key ${await phantomWrite(base, registerHistory)} behind the history, then read it`);

  let lost = 0;
  if (opts.workloads.includes('set')) {
    for (const how of ['read-each', 'listing'] as FinalRead[]) {
      const ok = await finalRead(base, setHistory, how, clock() + FINAL_READ_MS);
      const name = `set (${how === 'read-each' ? 'final read of every key' : 'final listing'})`;
      if (!ok) {
        verdicts.push(setVerdict(name, null, `no successful final ${how} within ${FINAL_READ_MS / 1000} s`));
        continue;
      }
      const r = checkSet(setEventsWith(setHistory.events, `final-${how}`));
      lost = Math.max(lost, r.lost.length);
      verdicts.push(setVerdict(name, r));
    }
  }
  if (opts.workloads.includes('exactly-once')) {
    const read = await finalCounterReads(base, onceHistory, clock() + FINAL_READ_MS);
    if (!read) notes.push(`exactly-once: not every counter could be read within ${FINAL_READ_MS / 1000} s`);
    const r = checkExactlyOnce(onceHistory.events);
    lost = Math.max(lost, ...r.counters.map((c) => (c.final === null ? 0 : Math.max(0, c.acknowledged - c.final))));
    verdicts.push(exactlyOnceVerdict(r));
  }
  if (opts.workloads.includes('durability')) {
    const r = checkDurability(durabilityWrites, await readBackAll(base, durabilityWrites, clock() + FINAL_READ_MS));
    lost = Math.max(lost, r.lost.length);
    verdicts.push(durabilityVerdict(r));
  }
  if (opts.nemesis.includes('storage')) verdicts.push(storageVerdict(await nemesis.settleChecks()));
  if (metaWork !== null) verdicts.push(...(await metaWork.verdicts()));
  if (opts.workloads.includes('register')) {
    verdicts.push(registerVerdict(checkHistory(multiRegisterModel(), registerHistory.events, { timeoutMs: 60_000 })));
  }

  await writeJsonLines(opts.out, 'history-register.jsonl', registerHistory.events);
  await writeJsonLines(opts.out, 'history-set.jsonl', setHistory.events);
  if (opts.workloads.includes('exactly-once')) await writeJsonLines(opts.out, 'history-exactly-once.jsonl', onceHistory.events);
  if (metaWork !== null) {
    await writeJsonLines(opts.out, 'meta-membership.jsonl', metaWork.events);
    await writeJsonLines(opts.out, 'meta-status.jsonl', metaWork.statusSamples);
    await writeJsonLines(opts.out, 'meta-maps.jsonl', metaWork.mapSamples);
  }
  await writeJsonLines(opts.out, 'nemesis.jsonl', nemesis.events);
  if (opts.workloads.includes('durability')) await writeJsonLines(opts.out, 'history-durability.jsonl', durabilityWrites);
  if (opts.nemesis.includes('storage')) await writeJsonLines(opts.out, 'storage-checks.jsonl', nemesis.storageChecks);

  const reg = countOps(registerHistory.events);
  const set = countOps(setEventsWith(setHistory.events, null));
  const once = countOps(onceHistory.events.filter((e) => !String(e.process).startsWith('final-')));
  const dur = { ops: durabilityWrites.length, ok: durabilityWrites.filter((w) => w.outcome === 'ok').length, unknown: durabilityWrites.filter((w) => w.outcome === 'unknown').length };
  const ops = reg.ops + set.ops + once.ops + dur.ops;
  const unknown = reg.unknown + set.unknown + once.unknown + dur.unknown;
  const availability = ops === 0 ? 0 : (reg.ok + set.ok + once.ok + dur.ok) / ops;
  const valid = verdicts.every((v) => v.valid === true);
  const summary = `jepsen: ${ops} ops, ${valid ? 'valid' : 'INVALID'}, lost ${lost}, unknown ${unknown}, availability ${(availability * 100).toFixed(1)}%`;
  const report: JepsenReport = {
    seed: opts.seed, out: opts.out, verdicts, valid, ops, unknown, lost, availability, recoveryMs,
    notes: [...notes, ...cluster.unexpectedExits.map((e) => `unexpected exit: ${e}`)], summary,
  };
  await writeJson(opts.out, 'summary.json', report);
  return report;
}
