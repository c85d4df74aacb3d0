// Puts a sentinel together: the LiveStore, the meta link, the probing loop and, when
// asked, its HTTP listener. `opera sentinel start` and the tests both start one here.
import type { Logger } from 'pino';
import { openLiveStore, type LiveStore } from '../gateway/live-store/index.js';
import { SentinelMetaLink, type SentinelCredential, type SentinelMeta } from './meta-link.js';
import type { ProbeFn } from './probe.js';
import { Sentinel, type SentinelSettings } from './sentinel.js';
import { startSentinelServer, type RunningSentinelServer } from './server.js';

export interface StartSentinelOptions {
  readonly id: string;
  readonly metaEndpoints: readonly string[];
  readonly credential: SentinelCredential;
  readonly settings: SentinelSettings;
  readonly log: Logger;
  /** redis://… to share observations with other sentinels; default in memory. */
  readonly liveStoreUrl?: string;
  /** Serve heartbeats and metrics here; needs `authorityPublicKey`. */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly authorityPublicKey?: Uint8Array;
  /** Give up on one meta call after this long (default 10 s). */
  readonly metaDeadlineMs?: number;
  /** Tests only: probe differently (e.g. a node this sentinel cannot reach). */
  readonly probe?: ProbeFn;
  /** Tests only: talk to meta differently. */
  readonly meta?: SentinelMeta;
}

export interface RunningSentinel {
  readonly sentinel: Sentinel;
  /** The listener's URL, when one was asked for. */
  readonly url?: string;
  stop(): Promise<void>;
}

export async function startSentinel(opts: StartSentinelOptions): Promise<RunningSentinel> {
  if (opts.listen !== undefined && opts.authorityPublicKey === undefined) {
    throw new Error('a sentinel listener needs the cluster authority public key to check node credentials');
  }
  const { log } = opts;
  const liveStore: LiveStore = await openLiveStore(opts.liveStoreUrl, { onError: (err) => log.warn({ err: err.message }, 'LiveStore connection error') });
  const meta = opts.meta ?? new SentinelMetaLink({
    endpoints: opts.metaEndpoints, credential: opts.credential,
    ...(opts.metaDeadlineMs !== undefined ? { deadlineMs: opts.metaDeadlineMs } : {}),
  });
  const sentinel = new Sentinel({ id: opts.id, meta, liveStore, settings: opts.settings, log, ...(opts.probe ? { probe: opts.probe } : {}) });
  let server: RunningSentinelServer | undefined;
  try {
    if (opts.listen !== undefined) {
      server = await startSentinelServer({ sentinel, authorityPublicKey: opts.authorityPublicKey!, host: opts.listen.host, port: opts.listen.port, log });
    }
    await sentinel.start();
  } catch (err) {
    await server?.close();
    await liveStore.close();
    throw err;
  }
  log.info({ id: opts.id, url: server?.url, quorum: opts.settings.quorum, shared: opts.liveStoreUrl !== undefined }, 'sentinel started');
  let stopped: Promise<void> | undefined;
  return {
    sentinel,
    ...(server ? { url: server.url } : {}),
    stop: () => (stopped ??= (async () => {
      await sentinel.stop();
      await server?.close();
      await liveStore.close();
    })()),
  };
}
