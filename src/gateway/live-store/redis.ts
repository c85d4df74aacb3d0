import { Redis } from 'ioredis';
import { LiveStoreClosedError, LiveStoreInputError, LiveStoreUnavailableError } from './errors.js';
import {
  INCR_WINDOW,
  LIVE_OBSERVATIONS,
  REPORT_OBSERVATION,
  REVOKE,
  TAKE_TOKENS,
} from './redis-scripts.js';
import {
  NODE_HEALTH_STATES,
  type LiveStore,
  type NodeHealth,
  type Observation,
  type RateDecision,
  type RateLimit,
  type SentinelObservation,
} from './types.js';
import {
  checkKey,
  checkObservation,
  checkRateLimit,
  checkString,
  checkTimestamp,
  checkTtl,
} from './validate.js';

export const DEFAULT_PREFIX = 'opera:';

export interface RedisLiveStoreOptions {
  /** Namespace of every key this store writes; default `opera:`. */
  prefix?: string;
  /** A command that gets no answer in this time fails (the store is unavailable). */
  commandTimeoutMs?: number;
  /** Giving up on the first connection after this long. */
  connectTimeoutMs?: number;
  /** Connection errors, for logging; the client reconnects by itself. */
  onError?: (err: Error) => void;
}

/**
 * The LiveStore shared by several gateways and sentinels. Commands are never
 * queued while Redis is unreachable: they fail at once with
 * LiveStoreUnavailableError, so that callers can fail closed instead of hanging.
 */
export class RedisLiveStore implements LiveStore {
  readonly prefix: string;
  readonly #client: Redis;
  #closed = false;

  private constructor(client: Redis, prefix: string) {
    this.#client = client;
    this.prefix = prefix;
  }

  /** Connects to `url` (redis:// or rediss://) and waits until Redis is ready. */
  static async connect(url: string, options: RedisLiveStoreOptions = {}): Promise<RedisLiveStore> {
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    checkKey('LiveStore key prefix', prefix);
    const client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      // Keep trying in the background: Redis coming back heals the gateways.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    });
    let firstError: Error | undefined; // says more than connect()'s "Connection is closed"
    client.on('error', (err: Error) => {
      firstError ??= err;
      options.onError?.(err);
    });
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      const cause = firstError ?? err;
      throw new LiveStoreUnavailableError(
        `cannot connect to Redis at ${redactUrl(url)}: ${messageOf(cause)}`,
        { cause },
      );
    }
    return new RedisLiveStore(client, prefix);
  }

  async putSession(id: string, value: string, ttlMs: number): Promise<void> {
    const key = this.#key('session', checkKey('session id', id));
    checkString('session value', value);
    const ttl = checkTtl('session ttlMs', ttlMs);
    await this.#call((c) => c.set(key, value, 'PX', ttl));
  }

  async getSession(id: string): Promise<string | undefined> {
    const key = this.#key('session', checkKey('session id', id));
    return (await this.#call((c) => c.get(key))) ?? undefined;
  }

  async deleteSession(id: string): Promise<boolean> {
    const key = this.#key('session', checkKey('session id', id));
    return (await this.#call((c) => c.del(key))) > 0;
  }

  async revoke(tokenId: string, untilMs: number): Promise<void> {
    const key = this.#key('revoked', checkKey('token id', tokenId));
    const until = Math.ceil(checkTimestamp('revocation untilMs', untilMs));
    await this.#call((c) => REVOKE.run(c, [key], [until]));
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    const key = this.#key('revoked', checkKey('token id', tokenId));
    return (await this.#call((c) => c.exists(key))) > 0;
  }

  async consumeRate(key: string, limit: RateLimit, nowMs?: number): Promise<RateDecision> {
    const bucket = this.#key('rate', checkKey('rate key', key));
    const { capacity, refillPerSec, cost } = checkRateLimit(limit);
    const now = nowMs === undefined ? '' : checkTimestamp('nowMs', nowMs);
    const reply = await this.#call((c) =>
      TAKE_TOKENS.run(c, [bucket], [capacity, refillPerSec, cost, now]),
    );
    const [allowed, remaining, retryAfterMs] = integers(reply, 3, 'rate limit');
    return { allowed: allowed === 1, remaining, retryAfterMs };
  }

  async claimNonce(nonce: string, ttlMs: number): Promise<boolean> {
    const key = this.#key('nonce', checkKey('nonce', nonce));
    const ttl = checkTtl('nonce ttlMs', ttlMs);
    return (await this.#call((c) => c.set(key, '1', 'PX', ttl, 'NX'))) === 'OK';
  }

  async reportObservation(
    sentinelId: string,
    nodeId: string,
    observation: Observation,
    ttlMs: number,
  ): Promise<void> {
    checkKey('sentinel id', sentinelId);
    const key = this.#key('obs', checkKey('node id', nodeId));
    const { state, atMs } = checkObservation(observation);
    const ttl = checkTtl('observation ttlMs', ttlMs);
    await this.#call((c) => REPORT_OBSERVATION.run(c, [key], [sentinelId, state, atMs, ttl]));
  }

  async observations(nodeId: string): Promise<SentinelObservation[]> {
    const key = this.#key('obs', checkKey('node id', nodeId));
    const reply = await this.#call((c) => LIVE_OBSERVATIONS.run(c, [key], []));
    if (!Array.isArray(reply)) throw new LiveStoreUnavailableError('unexpected reply to observations');
    const result: SentinelObservation[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      result.push(parseObservation(String(reply[i]), String(reply[i + 1]), key));
    }
    return result.sort((a, b) => (a.sentinelId < b.sentinelId ? -1 : a.sentinelId > b.sentinelId ? 1 : 0));
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    const counter = this.#key('counter', checkKey('counter key', key));
    const ttl = checkTtl('counter ttlMs', ttlMs);
    const reply = await this.#call((c) => INCR_WINDOW.run(c, [counter], [ttl]));
    return integers([reply], 1, 'counter')[0] as number;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#client.status === 'ready') {
      await this.#client.quit().catch(() => undefined);
    }
    this.#client.disconnect(); // also stops any pending reconnection
  }

  /** `<prefix><kind>:<id>`: one segment per kind, so kinds never collide. */
  #key(kind: string, id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  /** Runs a command, turning every Redis failure into LiveStoreUnavailableError. */
  async #call<T>(command: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw new LiveStoreClosedError();
    try {
      return await command(this.#client);
    } catch (err) {
      if (err instanceof LiveStoreInputError) throw err;
      throw new LiveStoreUnavailableError(`Redis LiveStore unavailable: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }
}

function parseObservation(sentinelId: string, raw: string, key: string): SentinelObservation {
  const [, state, at] = raw.split('|');
  const atMs = Number(at);
  if (!NODE_HEALTH_STATES.includes(state as NodeHealth) || at === undefined || !Number.isFinite(atMs)) {
    throw new LiveStoreUnavailableError(`corrupt observation of ${sentinelId} in ${key}`);
  }
  return { sentinelId, state: state as NodeHealth, atMs };
}

function integers(reply: unknown, count: number, what: string): number[] {
  const list = Array.isArray(reply) ? reply : [];
  if (list.length !== count || !list.every((n) => typeof n === 'number' && Number.isInteger(n))) {
    throw new LiveStoreUnavailableError(`unexpected reply from Redis to ${what}`);
  }
  return list as number[];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Secrets never reach errors or logs: hide the password of a Redis URL. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid URL>';
  }
}
