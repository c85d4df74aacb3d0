import type { RateDecision, RateLimit } from './types.js';

/**
 * Token-bucket arithmetic for the in-memory store. The Redis store runs the
 * same steps in Lua (redis-scripts.ts); keep the two in step.
 */
export interface BucketState {
  tokens: number;
  atMs: number;
}

export interface BucketStep {
  state: BucketState;
  decision: RateDecision;
  /** Time until the bucket is full again, when it is as good as absent. */
  fullInMs: number;
}

export function takeTokens(
  previous: BucketState | undefined,
  limit: Required<RateLimit>,
  nowMs: number,
): BucketStep {
  const { capacity, refillPerSec, cost } = limit;
  let tokens = previous ? previous.tokens : capacity;
  let atMs = previous ? previous.atMs : nowMs;
  // A clock that goes backwards refills nothing (and never drains).
  if (nowMs > atMs) {
    tokens += ((nowMs - atMs) * refillPerSec) / 1000;
    atMs = nowMs;
  }
  tokens = Math.min(tokens, capacity); // also applies a lowered capacity
  let allowed = false;
  let retryAfterMs = 0;
  if (tokens >= cost) {
    tokens -= cost;
    allowed = true;
  } else {
    retryAfterMs = Math.ceil(((cost - tokens) * 1000) / refillPerSec);
  }
  const fullInMs = Math.max(1, Math.ceil(((capacity - tokens) * 1000) / refillPerSec));
  return {
    state: { tokens, atMs },
    decision: { allowed, remaining: Math.floor(tokens), retryAfterMs },
    fullInMs,
  };
}
