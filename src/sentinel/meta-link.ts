// The sentinel's connection to meta. Its credential is either a `sentinel` token the
// operator gives, or one the sentinel mints itself from the cluster authority and
// replaces at half its life (a new credential means a new MetaClient, so a new client
// session). Commands go one at a time: a session runs one command at a time.
import { mintToken, type Signer } from '../crypto/tokens.js';
import { MetaClient, type WatchResult } from '../meta/client.js';
import type { ApplyResult, Command, MetaState } from '../meta/state.js';

/** What the sentinel needs of meta (tests may substitute it). */
export interface SentinelMeta {
  command(command: Command): Promise<ApplyResult>;
  watch(after: number, timeoutMs: number): Promise<WatchResult>;
  state(): Promise<{ applied: number; state: MetaState }>;
}

export type SentinelCredential =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'mint'; readonly authority: Signer; readonly subject: string; readonly ttlSeconds?: number };

export interface SentinelMetaLinkOptions {
  readonly endpoints: readonly string[];
  readonly credential: SentinelCredential;
  /** Give up on one meta call after this long (default 10 s); the caller retries later. */
  readonly deadlineMs?: number;
  readonly now?: () => number;
}

const DEFAULT_TOKEN_TTL_S = 3600;

export class SentinelMetaLink implements SentinelMeta {
  #client: MetaClient | undefined;
  #renewAtMs = Number.POSITIVE_INFINITY;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #now: () => number;

  constructor(private readonly opts: SentinelMetaLinkOptions) {
    if (opts.endpoints.length === 0) throw new Error('no meta endpoints given');
    this.#now = opts.now ?? Date.now;
  }

  command(command: Command): Promise<ApplyResult> {
    const run = this.#chain.then(() => this.#current().command(command));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  watch(after: number, timeoutMs: number): Promise<WatchResult> {
    return this.#current().watch(after, timeoutMs);
  }

  state(): Promise<{ applied: number; state: MetaState }> {
    return this.#current().state('linearizable');
  }

  #current(): MetaClient {
    if (this.#client === undefined || this.#now() >= this.#renewAtMs) {
      this.#client = new MetaClient({ endpoints: [...this.opts.endpoints], token: this.#token(), deadlineMs: this.opts.deadlineMs ?? 10_000 });
    }
    return this.#client;
  }

  #token(): string {
    const c = this.opts.credential;
    if (c.kind === 'token') return c.token;
    const ttl = c.ttlSeconds ?? DEFAULT_TOKEN_TTL_S;
    const nowMs = this.#now();
    const iat = Math.floor(nowMs / 1000);
    this.#renewAtMs = nowMs + (ttl * 1000) / 2;
    return mintToken(c.authority, { role: 'sentinel', sub: c.subject, iat, exp: iat + ttl });
  }
}
