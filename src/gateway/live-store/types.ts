/**
 * The live state that several gateways and sentinels must share: sessions,
 * revoked credentials, rate-limit buckets, replay nonces and sentinel
 * observations. Everything in it is short-lived and may be lost without harm
 * to the data: the durable truth lives in meta.
 */

/** Health of a storage node as one sentinel sees it. */
export type NodeHealth = 'up' | 'suspect' | 'down';

export const NODE_HEALTH_STATES: readonly NodeHealth[] = ['up', 'suspect', 'down'];

/** What one sentinel saw of one node, and when (its own clock, epoch ms). */
export interface Observation {
  state: NodeHealth;
  atMs: number;
}

/** An observation as listed back, tagged with the sentinel that made it. */
export interface SentinelObservation extends Observation {
  sentinelId: string;
}

/** A token bucket: `capacity` tokens, refilled at `refillPerSec`. */
export interface RateLimit {
  capacity: number;
  refillPerSec: number;
  /** Tokens this request takes; default 1. 0 only reads the bucket. */
  cost?: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** 0 when allowed; otherwise how long until the request could pass. */
  retryAfterMs: number;
}

export interface LiveStore {
  /** Stores a session for `ttlMs`; overwrites an existing one. */
  putSession(id: string, value: string, ttlMs: number): Promise<void>;
  /** The session, or undefined when absent or expired. */
  getSession(id: string): Promise<string | undefined>;
  /** Removes a session; true when a live one was removed. */
  deleteSession(id: string): Promise<boolean>;

  /**
   * Marks a credential revoked until `untilMs` (epoch ms, normally the
   * credential's own expiry, after which it is useless anyway). A later call
   * never shortens an earlier revocation.
   */
  revoke(tokenId: string, untilMs: number): Promise<void>;
  isRevoked(tokenId: string): Promise<boolean>;

  /**
   * Takes `cost` tokens from the bucket `key`, atomically across every
   * client of the store. `nowMs` overrides the store's clock (tests, replay).
   */
  consumeRate(key: string, limit: RateLimit, nowMs?: number): Promise<RateDecision>;

  /** True for the first claim of `nonce` within `ttlMs`, false for any other. */
  claimNonce(nonce: string, ttlMs: number): Promise<boolean>;

  /** Records (or replaces) what `sentinelId` sees of `nodeId`, for `ttlMs`. */
  reportObservation(
    sentinelId: string,
    nodeId: string,
    observation: Observation,
    ttlMs: number,
  ): Promise<void>;
  /** The unexpired observations of `nodeId`, one per sentinel, by sentinel id. */
  observations(nodeId: string): Promise<SentinelObservation[]>;

  /**
   * Adds one to counter `key` and returns the new value. A new counter lives
   * `ttlMs` from its first increment (a fixed window); later increments do not
   * extend it.
   */
  incr(key: string, ttlMs: number): Promise<number>;

  /** Releases connections; further calls fail with LiveStoreClosedError. */
  close(): Promise<void>;
}
