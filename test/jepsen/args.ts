// The command line of `npm run jepsen`.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { META_SIZES, type MetaSize } from './cluster/cluster.js';
import { DEFAULT_FAULT_KINDS, FAULT_KINDS, type FaultKind } from './nemesis/schedule.js';
import { TEETH, type Tooth } from './teeth.js';
import { DEFAULT_WORKLOADS, WORKLOADS, type JepsenOptions, type WorkloadName } from './run.js';

export const USAGE = 'npm run jepsen -- [--seed N] [--time 60s] [--workload register,set,exactly-once,durability,meta|all] [--nemesis kill,pause,partition,crash,flap,reorder,bridge,clock,slow-disk,storage,duplicate,links|all|none] [--meta 3|5] [--teeth lose-ack,phantom-write,fresh-seq] [--cover] [--out DIR] [--keep-data]';

/** "90", "90s", "2m", "1500ms": a plain number is seconds. */
export function parseTime(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m === null) throw new Error(`--time must look like 60, 60s, 2m or 1500ms, not "${text}"`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'];
  if (ms < 1000 || ms > 24 * 3_600_000) throw new Error('--time must be from 1 s to 24 h');
  return Math.round(ms);
}

function list<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  if (text === 'none') return [];
  if (text === 'all') return [...allowed];
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`unknown ${what} "${i}" (one of ${allowed.join(', ')})`);
  return [...new Set(items as T[])];
}

export function parseArgs(argv: readonly string[], randomSeed: () => number): JepsenOptions {
  let seed: number | null = null;
  let timeMs = 60_000;
  let workloads: WorkloadName[] = [...DEFAULT_WORKLOADS];
  let nemesis: FaultKind[] = [...DEFAULT_FAULT_KINDS];
  let teeth: Tooth[] = [];
  let metaSize: MetaSize = 3;
  let out: string | null = null;
  let keepData = false;
  let coverKinds = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--keep-data') {
      keepData = true;
      continue;
    }
    if (flag === '--cover') {
      coverKinds = true;
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    i++;
    if (flag === '--seed') {
      seed = Number(value);
      if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error('--seed must be an integer from 0 to 4294967295');
    } else if (flag === '--time') timeMs = parseTime(value);
    else if (flag === '--workload') workloads = list(value, WORKLOADS, 'workload');
    else if (flag === '--nemesis') nemesis = list(value, FAULT_KINDS, 'nemesis');
    else if (flag === '--meta') {
      const n = Number(value);
      if (!META_SIZES.includes(n as MetaSize)) throw new Error(`--meta must be one of ${META_SIZES.join(', ')}`);
      metaSize = n as MetaSize;
    } else if (flag === '--teeth') teeth = list(value, TEETH, 'tooth');
    else if (flag === '--out') out = value;
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  if (workloads.length === 0) throw new Error('--workload names no workload');
  if (teeth.includes('lose-ack') && !workloads.includes('set')) throw new Error('--teeth lose-ack needs the set workload');
  if (teeth.includes('phantom-write') && !workloads.includes('register')) throw new Error('--teeth phantom-write needs the register workload');
  if (teeth.includes('fresh-seq') && !workloads.includes('exactly-once')) throw new Error('--teeth fresh-seq needs the exactly-once workload');
  const s = seed ?? randomSeed();
  return { seed: s, timeMs, workloads, nemesis, teeth, metaSize, out: out ?? join(tmpdir(), `opera-jepsen-${s}-${Date.now().toString(36)}`), keepData, coverKinds };
}
