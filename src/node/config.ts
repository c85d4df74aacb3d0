// The storage node's settings, with defaults suited to production; tests shorten the
// timings. Sizes accept K, M, G and T suffixes (powers of 1024).
import type { Logger } from 'pino';
import type { StoreOptions } from './store/index.js';
import { DEFAULT_LIMITS, type NodeLimits } from './http/request-parts.js';
import { DEFAULT_TIMING, type ReplicationTiming } from './replication/timing.js';

export interface NodeOptions {
  /** Holds identity.json, credentials.json and (unless memory) the database in data/. */
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  /** How other processes reach this node; default http://HOST:PORT. */
  readonly advertiseUrl?: string;
  /** memory-level instead of classic-level: nothing survives a restart. */
  readonly memory: boolean;
  /** fsync commits (default true). */
  readonly sync: boolean;
  readonly timing: ReplicationTiming;
  readonly heartbeatMs: number;
  /** Bytes per second for partition copies this node sends or receives; 0 = unlimited. */
  readonly repairBandwidth: number;
  readonly scrubIntervalMs: number;
  /** A partition no longer assigned to this node is dropped after this long. */
  readonly dropGraceMs: number;
  /** SIGTERM waits this long for requests in flight. */
  readonly drainTimeoutMs: number;
  readonly limits: NodeLimits;
  readonly store?: Omit<StoreOptions, 'sync'>;
  readonly log: Logger;
}

export const DEFAULTS = {
  heartbeatMs: 3000,
  repairBandwidth: 50 * 1024 * 1024,
  scrubIntervalMs: 24 * 3600 * 1000,
  dropGraceMs: 10 * 60 * 1000,
  drainTimeoutMs: 30_000,
  timing: DEFAULT_TIMING,
  limits: DEFAULT_LIMITS,
} as const;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "50M", "1g", "123" → bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (m === null) throw new Error(`${what} must be a number of bytes, optionally with K, M, G or T (got ${JSON.stringify(text)})`);
  const n = Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(n)) throw new Error(`${what} is too large`);
  return n;
}

/** HOST:PORT (IPv6 in brackets) → parts. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (m === null || port < 1 || port > 65535) throw new Error(`--listen must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** The placement weight meta records for a capacity in bytes: GiB, at least 1. */
export function capacityWeight(bytes: number): number {
  return Math.max(1, Math.min(1_000_000_000, Math.round(bytes / 1024 ** 3)));
}
