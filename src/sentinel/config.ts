// Sentinel settings from command-line values: durations with units, defaults derived
// from the probe interval, and the checks that keep a quorum meaningful.
import type { SentinelSettings } from './sentinel.js';

export const SENTINEL_DEFAULTS = {
  intervalMs: 1000,
  suspectAfterMisses: 3,
  downAfterMs: 5000,
  quorum: 1,
} as const;

/** The longest probe timeout the default picks: a node slower than this is not healthy. */
const MAX_DEFAULT_TIMEOUT_MS = 1000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `1s`, `1.5s`, `2m`, `1h` → milliseconds. A unit is required. */
export function parseDuration(value: string, name: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!m) throw new Error(`${name} must be a duration such as 500ms, 1s, 30s or 2m; got "${value}"`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  if (!Number.isSafeInteger(ms)) throw new Error(`${name} is too long`);
  return ms;
}

export interface SentinelFlags {
  interval?: string;
  timeout?: string;
  suspectAfter?: string;
  recoverAfter?: string;
  downAfter?: string;
  minDwell?: string;
  quorum?: string;
  /** A shared LiveStore is configured (Redis): only then can a quorum exceed 1. */
  shared: boolean;
}

function positiveInt(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer from 1 to ${max}`);
  return n;
}

/** Resolves flags to settings; throws an Error naming the flag that is wrong. */
export function sentinelSettings(flags: SentinelFlags): SentinelSettings {
  const intervalMs = flags.interval !== undefined ? parseDuration(flags.interval, '--interval') : SENTINEL_DEFAULTS.intervalMs;
  if (intervalMs < 10) throw new Error('--interval must be at least 10ms');
  const timeoutMs = flags.timeout !== undefined ? parseDuration(flags.timeout, '--timeout') : Math.min(intervalMs, MAX_DEFAULT_TIMEOUT_MS);
  if (timeoutMs < 10) throw new Error('--timeout must be at least 10ms');
  const suspectAfterMisses = positiveInt(flags.suspectAfter, '--suspect-after', SENTINEL_DEFAULTS.suspectAfterMisses, 1000);
  const recoverAfterSuccesses = positiveInt(flags.recoverAfter, '--recover-after', suspectAfterMisses, 1000);
  const downAfterMs = flags.downAfter !== undefined ? parseDuration(flags.downAfter, '--down-after') : SENTINEL_DEFAULTS.downAfterMs;
  const minStateMs = flags.minDwell !== undefined ? parseDuration(flags.minDwell, '--min-dwell') : 2 * intervalMs;
  const quorum = positiveInt(flags.quorum, '--quorum', SENTINEL_DEFAULTS.quorum, 99);
  if (quorum > 1 && !flags.shared) {
    throw new Error(`--quorum ${quorum} needs sentinels that share observations: give --redis URL (the in-memory store is private to one sentinel)`);
  }
  return { intervalMs, timeoutMs, suspectAfterMisses, recoverAfterSuccesses, downAfterMs, minStateMs, quorum };
}
