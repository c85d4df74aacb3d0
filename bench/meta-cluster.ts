// The system under test: `opera meta bootstrap` and three `opera meta start` processes
// on 127.0.0.1 free ports, production timing and durability (fdatasync on), optionally
// with V8's CPU profiler (`--cpu-prof`) in every member.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, GiveUp, waitFor } from './ports.js';
import type { Managed, ProcessGroup } from './procs.js';
import type { RssSampler } from './proc-stats.js';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const operaBin = join(projectRoot, 'bin', 'opera.js');

export interface MetaCluster {
  readonly token: string;
  readonly members: { id: string; url: string; proc: Managed }[];
  readonly leaderUrl: string;
}

export async function startMetaCluster(procs: ProcessGroup, rss: RssSampler, dir: string, profileDir: string | null): Promise<MetaCluster> {
  const ids = ['m1', 'm2', 'm3'];
  const ports = await freePorts(ids.length * 2);
  const spec = ids.map((id, i) => `${id}=127.0.0.1:${ports[2 * i]}:${ports[2 * i + 1]}`).join(',');
  const cdir = join(dir, 'cluster');
  const env = { ...process.env, OPERA_LOG_LEVEL: 'warn' };
  const boot = await procs.run('opera meta bootstrap', process.execPath,
    [operaBin, 'meta', 'bootstrap', '--dir', cdir, '--members', spec], 60_000, env);
  if (boot.code !== 0) throw new Error(`opera meta bootstrap failed: ${boot.output.slice(-1000)}`);
  const token = (await readFile(join(cdir, 'admin.token'), 'utf8')).trim();
  const nodeFlags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const members = ids.map((id, i) => {
    const proc = procs.start(`meta ${id}`, 'meta', process.execPath,
      [...nodeFlags, operaBin, 'meta', 'start', '--dir', join(cdir, id)], env);
    rss.track({ name: `meta ${id}`, role: 'meta', pid: proc.pid });
    return { id, url: `http://127.0.0.1:${ports[2 * i]}`, proc };
  });
  const leaderUrl = await waitFor('a meta leader', async () => {
    for (const m of members) {
      if (!m.proc.running()) throw new GiveUp(`meta ${m.id} exited: ${m.proc.output().slice(-1000)}`);
    }
    for (const m of members) {
      const res = await fetch(`${m.url}/v1/meta/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) });
      if (res.ok && ((await res.json()) as { role?: string }).role === 'leader') return m.url;
    }
    return undefined;
  }, 60_000);
  return { token, members, leaderUrl };
}
