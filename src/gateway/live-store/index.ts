export type {
  LiveStore,
  NodeHealth,
  Observation,
  RateDecision,
  RateLimit,
  SentinelObservation,
} from './types.js';
export { NODE_HEALTH_STATES } from './types.js';
export { LiveStoreClosedError, LiveStoreInputError, LiveStoreUnavailableError } from './errors.js';
export { MemoryLiveStore, type MemoryLiveStoreOptions } from './memory.js';
export { DEFAULT_PREFIX, RedisLiveStore, type RedisLiveStoreOptions } from './redis.js';
export { openLiveStore, type OpenLiveStoreOptions } from './open.js';
