// Per-process clocks through Debian's libfaketime: each process of a clock run is started
// with LD_PRELOAD=libfaketimeMT and FAKETIME_TIMESTAMP_FILE naming its own file, which the
// library reads again at most once a second (FAKETIME_CACHE_DURATION=0). A spec "+O xR"
// makes the process see start + O + (now - start) * R, for the wall clock and (libfaketime's
// default, kept here) the monotonic clock alike, where `start` is when the process started.
// So a step is a new offset, and a rate change keeps the clock continuous only if the
// offset absorbs what the old rate accumulated: `ClockState` does that arithmetic.
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the process should see: its clock offset (ms) and rate at a given real instant. */
export interface ClockSpec {
  readonly offsetMs: number;
  readonly rate: number;
}

export const TRUE_CLOCK: ClockSpec = { offsetMs: 0, rate: 1 };

/**
 * The libfaketime spec for an offset and rate: "+1.500 x2". Only digits, a sign, a point and
 * "x": libfaketime scans the whole string for unit letters (m, h, d, y).
 */
export function faketimeSpec(spec: ClockSpec): string {
  if (!Number.isFinite(spec.offsetMs) || !Number.isFinite(spec.rate) || spec.rate <= 0) throw new Error(`bad clock spec ${JSON.stringify(spec)}`);
  const sec = spec.offsetMs / 1000;
  return `${sec < 0 ? '-' : '+'}${Math.abs(sec).toFixed(3)} x${Number(spec.rate.toFixed(6))}`;
}

/** The fake time a spec gives at real time `nowMs` for a process that started at `startMs`. */
export function fakeTimeAt(spec: ClockSpec, startMs: number, nowMs: number): number {
  return startMs + spec.offsetMs + (nowMs - startMs) * spec.rate;
}

/**
 * The spec that switches to `rate` at real time `nowMs` without a jump: the clock reads the
 * same just before and after, and runs at the new rate from there.
 */
export function continuousRate(current: ClockSpec, rate: number, startMs: number, nowMs: number): ClockSpec {
  const elapsed = nowMs - startMs;
  return { offsetMs: current.offsetMs + elapsed * (current.rate - rate), rate };
}

/** The spec that stops drifting at `nowMs` and keeps what the drift accumulated (no jump). */
export function freezeDrift(current: ClockSpec, startMs: number, nowMs: number): ClockSpec {
  return continuousRate(current, 1, startMs, nowMs);
}

/** How far the process's clock is off real time at `nowMs` (ms). */
export function clockError(spec: ClockSpec, startMs: number, nowMs: number): number {
  return fakeTimeAt(spec, startMs, nowMs) - nowMs;
}

/** Writes a spec atomically (a half-written file would make libfaketime exit). */
export function writeClockFile(file: string, spec: ClockSpec): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${faketimeSpec(spec)}\n`);
  renameSync(tmp, file);
}

/** libfaketime's thread-safe build, from OPERA_FAKETIME_LIB or Debian's usual places; null if absent. */
export function findFaketimeLibrary(env: NodeJS.ProcessEnv = process.env): string | null {
  const given = env['OPERA_FAKETIME_LIB'];
  if (given) return existsSync(given) ? given : null;
  const candidates = ['/usr/local/lib/faketime/libfaketimeMT.so.1'];
  try {
    for (const d of readdirSync('/usr/lib')) candidates.push(join('/usr/lib', d, 'faketime', 'libfaketimeMT.so.1'));
  } catch {
    // no /usr/lib
  }
  candidates.push('/usr/lib/faketime/libfaketimeMT.so.1');
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** The environment that puts a process's clock under its file. */
export function faketimeEnv(library: string, file: string): NodeJS.ProcessEnv {
  return { LD_PRELOAD: library, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_CACHE_DURATION: '0' };
}
