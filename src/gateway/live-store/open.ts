import { LiveStoreInputError } from './errors.js';
import { MemoryLiveStore } from './memory.js';
import { RedisLiveStore, redactUrl } from './redis.js';
import type { LiveStore } from './types.js';

export interface OpenLiveStoreOptions {
  /** Redis key namespace; default `opera:`. */
  prefix?: string;
  /** Clock of the in-memory store (tests). */
  now?: () => number;
  /** Redis connection errors, for logging. */
  onError?: (err: Error) => void;
}

/**
 * Opens the LiveStore named by `url`: none (or `memory:`) gives the in-memory
 * store of this process; `redis://` or `rediss://` connects to a Redis shared
 * with the other gateways and sentinels, and fails when it cannot.
 */
export async function openLiveStore(url?: string, options: OpenLiveStoreOptions = {}): Promise<LiveStore> {
  if (url === undefined || url === '' || url === 'memory:') {
    return new MemoryLiveStore(options.now ? { now: options.now } : {});
  }
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    throw new LiveStoreInputError('LiveStore URL is not a valid URL (expected redis://host:port)');
  }
  if (scheme !== 'redis:' && scheme !== 'rediss:') {
    throw new LiveStoreInputError(
      `unsupported LiveStore URL ${redactUrl(url)}: expected redis://, rediss:// or memory:`,
    );
  }
  const redisOptions = {
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  };
  return RedisLiveStore.connect(url, redisOptions);
}
