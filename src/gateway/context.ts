// What every route module of the gateway gets: one shared context, built once by
// startGateway (server.ts) and passed to each `register*Routes(router, g)`.
import type Router from '@koa/router';
import type { Logger } from 'pino';
import type { KeyService } from '../crypto/key-service.js';
import type { ConsoleFeed } from './console/feed.js';
import type { ClusterSecrets } from '../crypto/secrets.js';
import type { LiveStore } from './live-store/index.js';
import type { MapCache } from './map-cache.js';
import type { MetaLink } from './meta-link.js';
import type { GatewayMetrics } from './metrics.js';
import type { RevocationCache } from './revocations.js';
import { DEFAULT_SESSION_TTL_S, type Sessions } from './sessions.js';

/** A token bucket per credential: `burst` requests at once, `perSecond` sustained. */
export interface RateLimitSettings {
  readonly burst: number;
  readonly perSecond: number;
}

export interface GatewayLimits {
  /** Per-credential request rate (every authenticated route). */
  readonly rate: RateLimitSettings;
  /** JSON bodies of ordinary routes. */
  readonly jsonBodyBytes: number;
  /** JSON bodies of the key routes (a batch of 1000 items with 1 KiB keys). */
  readonly keyBodyBytes: number;
  /** The default and longest lifetime of a session (POST /v1/sessions), seconds. */
  readonly sessionTtlSeconds: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  rate: { burst: 1000, perSecond: 500 },
  jsonBodyBytes: 1 << 20,
  keyBodyBytes: 4 << 20,
  sessionTtlSeconds: DEFAULT_SESSION_TTL_S,
};

export interface GatewayContext {
  /** This gateway's name (its meta credential's subject; in logs). */
  readonly id: string;
  readonly meta: MetaLink;
  readonly mapCache: MapCache;
  readonly secrets: ClusterSecrets;
  readonly live: LiveStore;
  readonly revocations: RevocationCache;
  readonly sessions: Sessions;
  readonly keys: KeyService;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  /** The web console's live view of the cluster (started by the first console request). */
  readonly consoleFeed: ConsoleFeed;
  readonly limits: GatewayLimits;
  /** The clock (epoch ms); injectable for tests. */
  readonly now: () => number;
  /** Whether meta answered recently and the map is loaded (see readiness.ts). */
  readonly readiness: () => Promise<Readiness>;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not, for /readyz and the logs; empty when ready. */
  readonly reasons: string[];
}

/** One file of routes: registers them on the shared router. Must not call anything yet. */
export type RegisterRoutes = (router: Router, g: GatewayContext) => void;
