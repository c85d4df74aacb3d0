// The hottest functions of a V8 .cpuprofile (written by `--cpu-prof`), by self time, so
// the report names where a member's CPU went without opening a profiler.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  selfMs: number;
  /** Share of the busy time (every sample but "(idle)"), in %. */
  pct: number;
}

export async function hottest(file: string, root: string, top = 12): Promise<{ busyMs: number; functions: HotFunction[] }> {
  const p = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busyUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i + 1] ?? 0; // a sample's duration is the gap to the next one
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const f = node.callFrame;
    const where = f.url ? ` ${relative(root, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    busyUs += dt;
  }
  const functions = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, pct: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  return { busyMs: busyUs / 1000, functions };
}
