import { LiveStoreClosedError } from './errors.js';
import { takeTokens, type BucketState } from './token-bucket.js';
import type {
  LiveStore,
  Observation,
  RateDecision,
  RateLimit,
  SentinelObservation,
} from './types.js';
import {
  checkKey,
  checkObservation,
  checkRateLimit,
  checkString,
  checkTimestamp,
  checkTtl,
} from './validate.js';

interface Expiring<T> {
  value: T;
  expiresAtMs: number;
}

/** Expired entries are dropped when read, and swept at most this often. */
const SWEEP_EVERY_MS = 1000;

/** The maps behind one or more MemoryLiveStore handles. */
class MemoryTables {
  readonly sessions = new Map<string, Expiring<string>>();
  readonly revoked = new Map<string, number>();
  readonly buckets = new Map<string, Expiring<BucketState>>();
  readonly nonces = new Map<string, number>();
  readonly observations = new Map<string, Map<string, Expiring<Observation>>>();
  readonly counters = new Map<string, Expiring<number>>();
  lastSweepMs = -Infinity;

  sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < SWEEP_EVERY_MS) return;
    this.lastSweepMs = nowMs;
    for (const map of [this.sessions, this.buckets, this.counters]) {
      for (const [k, e] of map) if (e.expiresAtMs <= nowMs) map.delete(k);
    }
    for (const map of [this.revoked, this.nonces]) {
      for (const [k, until] of map) if (until <= nowMs) map.delete(k);
    }
    for (const [node, bySentinel] of this.observations) {
      for (const [s, e] of bySentinel) if (e.expiresAtMs <= nowMs) bySentinel.delete(s);
      if (bySentinel.size === 0) this.observations.delete(node);
    }
  }
}

export interface MemoryLiveStoreOptions {
  /** The clock, epoch ms; tests inject one to drive expiry. */
  now?: () => number;
}

/**
 * The LiveStore of a single process (the default, and `opera dev`). An entry
 * lives while now < written + ttl. Every operation runs synchronously, so each
 * is atomic with respect to every other handle on the same tables.
 */
export class MemoryLiveStore implements LiveStore {
  #tables = new MemoryTables();
  readonly #now: () => number;
  #closed = false;

  constructor(options: MemoryLiveStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Another handle on the same state, as a second gateway in this process
   * would hold; closing one handle leaves the other working.
   */
  peer(): MemoryLiveStore {
    const other = new MemoryLiveStore({ now: this.#now });
    other.#tables = this.#tables;
    return other;
  }

  async putSession(id: string, value: string, ttlMs: number): Promise<void> {
    checkKey('session id', id);
    checkString('session value', value);
    const ttl = checkTtl('session ttlMs', ttlMs);
    const now = this.#begin();
    this.#tables.sessions.set(id, { value, expiresAtMs: now + ttl });
  }

  async getSession(id: string): Promise<string | undefined> {
    checkKey('session id', id);
    return this.#live(this.#tables.sessions, id, this.#begin())?.value;
  }

  async deleteSession(id: string): Promise<boolean> {
    checkKey('session id', id);
    const live = this.#live(this.#tables.sessions, id, this.#begin());
    this.#tables.sessions.delete(id);
    return live !== undefined;
  }

  async revoke(tokenId: string, untilMs: number): Promise<void> {
    checkKey('token id', tokenId);
    checkTimestamp('revocation untilMs', untilMs);
    const now = this.#begin();
    const current = this.#tables.revoked.get(tokenId) ?? 0;
    if (untilMs > now && untilMs > current) this.#tables.revoked.set(tokenId, untilMs);
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    checkKey('token id', tokenId);
    const until = this.#tables.revoked.get(tokenId);
    return until !== undefined && until > this.#begin();
  }

  async consumeRate(key: string, limit: RateLimit, nowMs?: number): Promise<RateDecision> {
    checkKey('rate key', key);
    const checked = checkRateLimit(limit);
    if (nowMs !== undefined) checkTimestamp('nowMs', nowMs);
    const clock = this.#begin();
    const previous = this.#live(this.#tables.buckets, key, clock)?.value;
    const step = takeTokens(previous, checked, nowMs ?? clock);
    this.#tables.buckets.set(key, { value: step.state, expiresAtMs: clock + step.fullInMs });
    return step.decision;
  }

  async claimNonce(nonce: string, ttlMs: number): Promise<boolean> {
    checkKey('nonce', nonce);
    const ttl = checkTtl('nonce ttlMs', ttlMs);
    const now = this.#begin();
    const until = this.#tables.nonces.get(nonce);
    if (until !== undefined && until > now) return false;
    this.#tables.nonces.set(nonce, now + ttl);
    return true;
  }

  async reportObservation(
    sentinelId: string,
    nodeId: string,
    observation: Observation,
    ttlMs: number,
  ): Promise<void> {
    checkKey('sentinel id', sentinelId);
    checkKey('node id', nodeId);
    const value = checkObservation(observation);
    const ttl = checkTtl('observation ttlMs', ttlMs);
    const now = this.#begin();
    let bySentinel = this.#tables.observations.get(nodeId);
    if (!bySentinel) {
      bySentinel = new Map();
      this.#tables.observations.set(nodeId, bySentinel);
    }
    bySentinel.set(sentinelId, { value, expiresAtMs: now + ttl });
  }

  async observations(nodeId: string): Promise<SentinelObservation[]> {
    checkKey('node id', nodeId);
    const now = this.#begin();
    const result: SentinelObservation[] = [];
    for (const [sentinelId, e] of this.#tables.observations.get(nodeId) ?? []) {
      if (e.expiresAtMs > now) result.push({ sentinelId, ...e.value });
    }
    return result.sort((a, b) => (a.sentinelId < b.sentinelId ? -1 : a.sentinelId > b.sentinelId ? 1 : 0));
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    checkKey('counter key', key);
    const ttl = checkTtl('counter ttlMs', ttlMs);
    const now = this.#begin();
    const current = this.#live(this.#tables.counters, key, now);
    const value = (current?.value ?? 0) + 1;
    this.#tables.counters.set(key, { value, expiresAtMs: current?.expiresAtMs ?? now + ttl });
    return value;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Refuses a closed handle, sweeps when due, and returns the time. */
  #begin(): number {
    if (this.#closed) throw new LiveStoreClosedError();
    const now = this.#now();
    this.#tables.sweep(now);
    return now;
  }

  #live<T>(map: Map<string, Expiring<T>>, key: string, now: number): Expiring<T> | undefined {
    const e = map.get(key);
    if (e === undefined || e.expiresAtMs > now) return e;
    map.delete(key);
    return undefined;
  }
}
