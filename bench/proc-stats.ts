// Linux /proc readings: resident memory of a process (sampled for its peak), CPU time of
// processes and of the whole machine (to tell our load from other work on the host).
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc CPU times; 100 on every mainstream Linux build. */
export const CLOCK_TICKS_PER_S = 100;

export interface MemoryReading {
  rssKiB: number;
  /** VmHWM: the kernel's own record of the peak resident set. */
  hwmKiB: number;
}

export function readMemory(pid: number): MemoryReading | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  } catch {
    return null; // the process is gone
  }
}

/** utime + stime of a process, in clock ticks (0 once it is gone). */
export function processTicks(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Busy and total clock ticks of all CPUs since boot. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

export interface TrackedProcess {
  readonly name: string;
  readonly role: string;
  readonly pid: number;
}

export interface ProcessPeak extends TrackedProcess {
  peakRssMiB: number;
  hwmMiB: number;
  /** User + system CPU seconds, as last read while it ran. */
  cpuS: number;
}

/** Samples VmRSS of every tracked process (and the harness) every intervalMs; keeps peaks. */
export class RssSampler {
  private readonly peaks = new Map<number, ProcessPeak>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 200) {
    this.track({ name: 'load generator (this process)', role: 'harness', pid: process.pid });
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  track(p: TrackedProcess): void {
    this.peaks.set(p.pid, { ...p, peakRssMiB: 0, hwmMiB: 0, cpuS: 0 });
    this.sample();
  }

  sample(): void {
    for (const p of this.peaks.values()) {
      const m = readMemory(p.pid);
      if (!m) continue;
      p.peakRssMiB = Math.max(p.peakRssMiB, m.rssKiB / 1024);
      p.hwmMiB = Math.max(p.hwmMiB, m.hwmKiB / 1024);
      p.cpuS = Math.max(p.cpuS, processTicks(p.pid) / CLOCK_TICKS_PER_S);
    }
  }

  /** Call before stopping a process: its final high-water mark is read while it still exists. */
  final(pid: number): void {
    const p = this.peaks.get(pid);
    const m = readMemory(pid);
    if (p && m) {
      p.peakRssMiB = Math.max(p.peakRssMiB, m.rssKiB / 1024);
      p.hwmMiB = Math.max(p.hwmMiB, m.hwmKiB / 1024);
      p.cpuS = Math.max(p.cpuS, processTicks(pid) / CLOCK_TICKS_PER_S);
    }
  }

  /** Every tracked process that is still running. */
  running(): TrackedProcess[] {
    return [...this.peaks.values()].filter((p) => readMemory(p.pid) !== null).map(({ name, role, pid }) => ({ name, role, pid }));
  }

  results(): ProcessPeak[] {
    this.sample();
    return [...this.peaks.values()];
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Peak VmRSS of some processes over a window of time (VmHWM would include earlier peaks). */
export class RssWindow {
  private readonly peaks = new Map<number, { name: string; startMiB: number; peakMiB: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(processes: readonly TrackedProcess[], intervalMs = 100) {
    // RSS rarely shrinks: the reading at the start tells growth in the window from earlier peaks.
    for (const p of processes) this.peaks.set(p.pid, { name: p.name, startMiB: (readMemory(p.pid)?.rssKiB ?? 0) / 1024, peakMiB: 0 });
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const [pid, p] of this.peaks) {
      const m = readMemory(pid);
      if (m) p.peakMiB = Math.max(p.peakMiB, m.rssKiB / 1024);
    }
  }

  /** Stops sampling; the peak of each process, largest first. */
  end(): { process: string; startRssMiB: number; peakRssMiB: number }[] {
    this.sample();
    clearInterval(this.timer);
    return [...this.peaks.values()].map((p) => ({ process: p.name, startRssMiB: p.startMiB, peakRssMiB: p.peakMiB })).sort((a, b) => b.peakRssMiB - a.peakRssMiB);
  }
}
