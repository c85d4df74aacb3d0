import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Lua scripts that make the Redis LiveStore's read-modify-write steps atomic:
 * Redis runs a script to completion before serving any other client, so two
 * gateways can never both take the last token. Times come from the Redis
 * server's clock (TIME), the one clock every gateway shares.
 */

/** A script run by its SHA1 (EVALSHA), sent in full only when Redis lacks it. */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly source: string,
    readonly keyCount: number,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, this.keyCount, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await client.eval(this.source, this.keyCount, ...keys, ...args);
    }
  }
}

const SERVER_NOW = `
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Token bucket; mirrors token-bucket.ts. KEYS[1] = bucket hash {tokens, at}.
 * ARGV = capacity, refillPerSec, cost, nowMs ('' for the server clock).
 * Returns {allowed 0|1, remaining, retryAfterMs}.
 */
export const TAKE_TOKENS = new LuaScript(
  `${SERVER_NOW}
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4]) or server_now()
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = tokens + (now - at) * refill / 1000
  at = now
end
tokens = math.min(tokens, capacity)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) * 1000 / refill)
end
local full_in = math.max(1, math.ceil((capacity - tokens) * 1000 / refill))
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', at)
redis.call('PEXPIRE', KEYS[1], full_in)
return {allowed, math.floor(tokens), retry}
`,
  1,
);

/** KEYS[1] = revocation; ARGV[1] = untilMs. Never shortens a revocation. */
export const REVOKE = new LuaScript(
  `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return 1
`,
  1,
);

/** KEYS[1] = counter; ARGV[1] = ttlMs, set on the first increment only. */
export const INCR_WINDOW = new LuaScript(
  `
local value = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
`,
  1,
);

/**
 * KEYS[1] = the node's observation hash, field per sentinel, value
 * "<expiresAtMs>|<state>|<atMs>" (Redis 7.0 has no per-field TTL).
 * ARGV = sentinelId, state, atMs, ttlMs. The hash lives as long as its
 * longest-lived field.
 */
export const REPORT_OBSERVATION = new LuaScript(
  `${SERVER_NOW}
local ttl = tonumber(ARGV[4])
local value = string.format('%d|%s|%s', server_now() + ttl, ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], value)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`,
  1,
);

/** KEYS[1] = observation hash. Drops expired fields, returns the rest flat. */
export const LIVE_OBSERVATIONS = new LuaScript(
  `${SERVER_NOW}
local now = server_now()
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local expires = tonumber(string.match(all[i + 1], '^(%d+)|'))
  if expires ~= nil and expires > now then
    live[#live + 1] = all[i]
    live[#live + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return live
`,
  1,
);
