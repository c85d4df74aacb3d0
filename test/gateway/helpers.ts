// Gateways for tests: in-process on a free 127.0.0.1 port, over a real meta group, with
// the LiveStore in memory or in a real Redis; stopped at teardown.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { loadClusterSecrets, type ClusterSecrets } from '../../src/crypto/secrets.js';
import { mintToken, type Role } from '../../src/crypto/tokens.js';
import type { GatewayLimits } from '../../src/gateway/context.js';
import { startGateway, type RunningGateway } from '../../src/gateway/server.js';
import type { MetaCluster } from '../meta/cluster-helpers.js';
import type { Teardownable } from '../helpers/processes.js';

export interface TestGatewayOptions {
  readonly liveStoreUrl?: string;
  /** Redis key prefix; gateways that should share state pass the same one. */
  readonly prefix?: string;
  readonly limits?: Partial<GatewayLimits>;
  readonly metaEndpoints?: string[];
  readonly readyWindowMs?: number;
  readonly metaTokenFile?: string;
  /** The gateway's clock (epoch ms). */
  readonly now?: () => number;
}

export async function clusterSecrets(cluster: MetaCluster): Promise<ClusterSecrets> {
  return loadClusterSecrets(join(cluster.dir, 'secrets.json'));
}

/** `cluster` null: no meta at all (give `metaEndpoints`); the map is then not awaited. */
export async function startTestGateway(
  t: Teardownable, cluster: MetaCluster | null, secrets: ClusterSecrets, opts: TestGatewayOptions = {},
): Promise<RunningGateway> {
  const metaEndpoints = opts.metaEndpoints ?? (cluster ? [...cluster.apis.values()] : []);
  const gw = await startGateway({
    metaEndpoints,
    secrets,
    host: '127.0.0.1',
    port: 0,
    log: pino({ level: process.env['OPERA_TEST_LOG'] ?? 'silent' }),
    watchTimeoutMs: 500,
    metaDeadlineMs: 5000,
    id: `gw-test-${randomBytes(3).toString('hex')}`,
    ...(opts.liveStoreUrl !== undefined ? { liveStoreUrl: opts.liveStoreUrl, liveStorePrefix: opts.prefix ?? `t${randomBytes(4).toString('hex')}:` } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.readyWindowMs !== undefined ? { readyWindowMs: opts.readyWindowMs } : {}),
    ...(opts.metaTokenFile !== undefined ? { metaTokenFile: opts.metaTokenFile } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  t.teardown(() => gw.stop());
  if (cluster !== null && opts.metaEndpoints === undefined) await gw.mapLoaded();
  return gw;
}

/** A token signed by the cluster authority, valid from `fromS` to `toS` seconds around now. */
export function token(secrets: ClusterSecrets, role: Role, sub: string = role, fromS = 0, toS = 600): string {
  const now = Math.floor(Date.now() / 1000);
  return mintToken(secrets.authority, { role, sub, iat: now + fromS, exp: now + toS });
}

export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T & { error?: { code: string; message: string } };
}

export interface CallOptions {
  readonly method?: string;
  readonly token?: string;
  readonly json?: unknown;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
}

/** One request; the answer's JSON body (or its text under `text` when it is not JSON). */
export async function call<T = Record<string, unknown>>(base: string, path: string, opts: CallOptions = {}): Promise<Answer<T>> {
  const headers = new Headers(opts.headers);
  if (opts.token !== undefined) headers.set('authorization', `Bearer ${opts.token}`);
  let body: string | Buffer | undefined = opts.body;
  if (opts.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(base + path, { method: opts.method ?? (body !== undefined ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { status: res.status, headers: res.headers, body: parsed as Answer<T>['body'] };
}
