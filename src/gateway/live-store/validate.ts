import { LiveStoreInputError } from './errors.js';
import { NODE_HEALTH_STATES, type NodeHealth, type Observation, type RateLimit } from './types.js';

/** Ids and keys are opaque, but bounded so that a bad caller cannot bloat Redis. */
export const MAX_KEY_BYTES = 1024;
/** Live state is short-lived by nature; a longer TTL is a unit mistake. */
export const MAX_TTL_MS = 366 * 24 * 60 * 60 * 1000;

export function checkKey(what: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new LiveStoreInputError(`${what} must be a string, got ${typeof value}`);
  }
  if (value.length === 0) throw new LiveStoreInputError(`${what} must not be empty`);
  if (Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) {
    throw new LiveStoreInputError(`${what} is longer than ${MAX_KEY_BYTES} bytes`);
  }
  return value;
}

/** A TTL in whole milliseconds (fractions round up, so it is never 0). */
export function checkTtl(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LiveStoreInputError(`${what} must be a finite number of milliseconds`);
  }
  if (value <= 0) throw new LiveStoreInputError(`${what} must be positive, got ${value}`);
  if (value > MAX_TTL_MS) {
    throw new LiveStoreInputError(`${what} must be at most ${MAX_TTL_MS} ms (366 days), got ${value}`);
  }
  return Math.ceil(value);
}

/** An absolute time, epoch milliseconds. */
export function checkTimestamp(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new LiveStoreInputError(`${what} must be a non-negative finite epoch time in ms`);
  }
  return value;
}

export function checkString(what: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new LiveStoreInputError(`${what} must be a string, got ${typeof value}`);
  }
  return value;
}

export function checkRateLimit(limit: unknown): Required<RateLimit> {
  if (typeof limit !== 'object' || limit === null) {
    throw new LiveStoreInputError('rate limit must be an object { capacity, refillPerSec, cost? }');
  }
  const { capacity, refillPerSec, cost = 1 } = limit as Partial<Record<keyof RateLimit, unknown>>;
  const positive = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new LiveStoreInputError(`rate limit ${name} must be a positive finite number, got ${String(v)}`);
    }
    return v;
  };
  const cap = positive('capacity', capacity);
  const refill = positive('refillPerSec', refillPerSec);
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
    throw new LiveStoreInputError(`rate limit cost must be a non-negative finite number, got ${String(cost)}`);
  }
  // Such a request could never pass; saying so beats an endless retryAfter.
  if (cost > cap) {
    throw new LiveStoreInputError(`rate limit cost ${cost} exceeds capacity ${cap}`);
  }
  return { capacity: cap, refillPerSec: refill, cost };
}

export function checkObservation(value: unknown): Observation {
  if (typeof value !== 'object' || value === null) {
    throw new LiveStoreInputError('observation must be an object { state, atMs }');
  }
  const { state, atMs } = value as Partial<Record<keyof Observation, unknown>>;
  return { state: checkHealth(state), atMs: checkTimestamp('observation atMs', atMs) };
}

export function checkHealth(value: unknown): NodeHealth {
  if (!NODE_HEALTH_STATES.includes(value as NodeHealth)) {
    throw new LiveStoreInputError(
      `observation state must be one of ${NODE_HEALTH_STATES.join(', ')}, got ${String(value)}`,
    );
  }
  return value as NodeHealth;
}
