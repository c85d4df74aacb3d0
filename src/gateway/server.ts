// `opera gateway start`: the gateway's pieces wired together and an HTTP listener.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { errorBody } from '../common/http-errors.js';
import { LocalKeyService } from '../crypto/key-service.js';
import type { ClusterSecrets } from '../crypto/secrets.js';
import { createGatewayApp } from './app.js';
import { ConsoleFeed } from './console/feed.js';
import { DEFAULT_LIMITS, type GatewayContext, type GatewayLimits, type Readiness } from './context.js';
import { openLiveStore } from './live-store/index.js';
import { MapCache } from './map-cache.js';
import { defaultGatewaySubject, MetaLink } from './meta-link.js';
import { GatewayMetrics } from './metrics.js';
import { RevocationCache } from './revocations.js';
import { selfToken } from './self-token.js';
import { Sessions } from './sessions.js';

/** Node's own limit on request headers; beyond it the client gets a JSON 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface GatewayOptions {
  readonly metaEndpoints: readonly string[];
  readonly secrets: ClusterSecrets;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly log: Logger;
  /** none or `memory:` for an in-process LiveStore, `redis://...` to share one. */
  readonly liveStoreUrl?: string;
  readonly liveStorePrefix?: string;
  /** Use the token in this file for meta instead of minting one. */
  readonly metaTokenFile?: string;
  readonly id?: string;
  readonly limits?: Partial<GatewayLimits>;
  /** One watch long-poll (default 25 s). */
  readonly watchTimeoutMs?: number;
  /** Give up on one meta call after this long (default 15 s). */
  readonly metaDeadlineMs?: number;
  /** Not ready when meta has not answered for this long (default: the watch time + 20 s). */
  readonly readyWindowMs?: number;
  readonly now?: () => number;
  /** The console feed's sample period (default 2 s). */
  readonly consoleSampleMs?: number;
}

export interface RunningGateway {
  readonly url: string;
  readonly context: GatewayContext;
  readonly app: Koa;
  readonly router: Router;
  readonly server: Server;
  /** Resolves once the partition map is loaded (or rejects after `timeoutMs`). */
  mapLoaded(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const log = opts.log;
  const now = opts.now ?? Date.now;
  const id = opts.id ?? defaultGatewaySubject();
  const metrics = new GatewayMetrics();
  const live = await openLiveStore(opts.liveStoreUrl, {
    ...(opts.liveStorePrefix !== undefined ? { prefix: opts.liveStorePrefix } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    onError: (err) => {
      metrics.liveStoreErrors.inc({ op: 'connection' });
      log.warn({ err: err.message }, 'LiveStore connection error');
    },
  });
  const meta = await MetaLink.open({
    endpoints: opts.metaEndpoints,
    credential: opts.metaTokenFile !== undefined
      ? { kind: 'file', path: opts.metaTokenFile }
      : { kind: 'mint', authority: opts.secrets.authority, subject: id },
    log,
    now,
    ...(opts.metaDeadlineMs !== undefined ? { deadlineMs: opts.metaDeadlineMs } : {}),
  });
  const mapCache = new MapCache({ meta, log, metrics, now, ...(opts.watchTimeoutMs !== undefined ? { watchTimeoutMs: opts.watchTimeoutMs } : {}) });
  const revocations = new RevocationCache(live, log, metrics, now);
  mapCache.onState((state) => revocations.sync(state.revoked));
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const readyWindowMs = opts.readyWindowMs ?? mapCache.watchTimeoutMs + 20_000;

  const readiness = async (): Promise<Readiness> => {
    const reasons: string[] = [];
    if (mapCache.current() === null) reasons.push('the partition map is not loaded');
    const contact = mapCache.lastContactMs;
    if (contact === null || now() - contact > readyWindowMs) reasons.push('meta has not answered recently');
    try {
      await live.isRevoked('readiness-probe');
    } catch {
      reasons.push('the LiveStore cannot be reached');
    }
    return { ready: reasons.length === 0, reasons };
  };

  const consoleFeed = new ConsoleFeed({
    gateway: id, mapCache, meta, live, requests: metrics.history, token: selfToken({ secrets: opts.secrets, id, now }), log, now,
    ...(opts.consoleSampleMs !== undefined ? { sampleMs: opts.consoleSampleMs } : {}),
  });
  const context: GatewayContext = {
    id, meta, mapCache, secrets: opts.secrets, live, revocations, sessions: new Sessions(live, opts.secrets.authority, now), keys: new LocalKeyService(opts.secrets.keks), log, metrics, limits, now, readiness, consoleFeed,
  };
  const { app, router } = createGatewayApp(context);
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app.callback());
  server.headersTimeout = 10_000;
  server.requestTimeout = 120_000;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  mapCache.start();
  log.info({ url, id, liveStore: opts.liveStoreUrl ? 'redis' : 'memory', meta: meta.endpoints }, 'gateway listening');

  return {
    url, context, app, router, server,
    async mapLoaded(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (mapCache.current() === null) {
        if (Date.now() > deadline) throw new Error('the gateway did not load the partition map in time');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await consoleFeed.stop();
      await mapCache.stop();
      meta.close();
      await live.close();
    },
  };
}

/** Malformed requests and oversized headers get a JSON answer before Koa sees them. */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const [status, reason, code, message] = tooLarge
    ? [431, 'Request Header Fields Too Large', 'headers-too-large', `the request headers exceed ${MAX_HEADER_BYTES} bytes`]
    : [400, 'Bad Request', 'bad-request', 'malformed HTTP request'];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
