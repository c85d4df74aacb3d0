// What the numbers were measured on: CPU, memory, the data disk, Node, load average.
import { readFileSync, statfsSync } from 'node:fs';
import { basename } from 'node:path';
import { cpus, loadavg, totalmem, type as osType, release } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  disk: { device: string; fsType: string; mountPoint: string; sizeGiB: number; freeGiB: number; rotational: boolean | null };
  node: string;
}

export type LoadAverage = [number, number, number];

export function loadAverage(): LoadAverage {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c];
}

export function machineInfo(dataDir: string): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: totalmem() / 2 ** 30,
    os: `${osType()} ${release()}${debianVersion()}`,
    disk: diskOf(dataDir),
    node: process.version,
  };
}

function debianVersion(): string {
  try {
    return `, Debian ${readFileSync('/etc/debian_version', 'utf8').trim()}`;
  } catch {
    return '';
  }
}

/** The mount holding `dir` (longest matching mount point in /proc/self/mountinfo). */
function diskOf(dir: string): MachineInfo['disk'] {
  let best = { mountPoint: '/', fsType: 'unknown', device: 'unknown' };
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [left, right] = line.split(' - ');
      if (!left || !right) continue;
      const mountPoint = unescapeMount(left.split(' ')[4] ?? '');
      const [fsType = 'unknown', device = 'unknown'] = right.split(' ');
      const inside = dir === mountPoint || dir.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
      if (inside && mountPoint.length >= best.mountPoint.length) best = { mountPoint, fsType, device };
    }
  } catch {
    // not Linux: keep the defaults
  }
  const s = statfsSync(dir);
  return {
    ...best,
    sizeGiB: (s.blocks * s.bsize) / 2 ** 30,
    freeGiB: (s.bavail * s.bsize) / 2 ** 30,
    rotational: rotational(best.device),
  };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function rotational(device: string): boolean | null {
  const name = basename(device);
  for (const p of [`/sys/class/block/${name}/queue/rotational`, `/sys/class/block/${name.replace(/p?\d+$/, '')}/queue/rotational`]) {
    try {
      return readFileSync(p, 'utf8').trim() === '1';
    } catch {
      // try the parent device
    }
  }
  return null;
}
