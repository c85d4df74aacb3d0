// Revoked credentials, as every authenticated route checks them. Meta holds the truth;
// this gateway keeps the list it last read from meta (refreshed with every map read)
// and mirrors it into the LiveStore, where a revocation made on any gateway shows up on
// all of them at once. A credential is refused if either place names it. A LiveStore
// that cannot answer fails the check (the caller answers 503): never fail open.
import type { Logger } from 'pino';
import type { LiveStore } from './live-store/index.js';
import type { GatewayMetrics } from './metrics.js';

export class RevocationCache {
  readonly #fromMeta = new Map<string, number>();
  readonly #now: () => number;

  constructor(
    private readonly live: LiveStore,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
    now: () => number = Date.now,
  ) {
    this.#now = now;
  }

  /** How many unexpired revocations this gateway knows from meta. */
  get size(): number {
    this.#prune();
    return this.#fromMeta.size;
  }

  /** Synchronous check against meta's list only (for hooks that cannot wait). */
  knownRevoked(id: string): boolean {
    const until = this.#fromMeta.get(id);
    return until !== undefined && until > this.#now();
  }

  /** True when meta or the LiveStore names `id`; throws when the LiveStore cannot answer. */
  async isRevoked(id: string): Promise<boolean> {
    if (this.knownRevoked(id)) return true;
    try {
      return await this.live.isRevoked(id);
    } catch (err) {
      this.metrics.liveStoreErrors.inc({ op: 'isRevoked' });
      throw err;
    }
  }

  /**
   * Takes meta's list (`id -> expiry ms`) and copies it into the LiveStore, so a Redis that
   * restarted empty is filled again by the next read. Failures are logged, not thrown:
   * meta's list still protects this gateway.
   */
  async sync(revoked: Readonly<Record<string, number>>): Promise<void> {
    // A revocation only ever ends by expiring, so entries are merged, never dropped early
    // (a read that started before a revoke command committed must not undo it here).
    this.#prune();
    const now = this.#now();
    for (const [id, until] of Object.entries(revoked)) {
      if (until > now) this.#fromMeta.set(id, Math.max(until, this.#fromMeta.get(id) ?? 0));
    }
    const results = await Promise.allSettled([...this.#fromMeta].map(([id, until]) => this.live.revoke(id, until)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) {
      this.metrics.liveStoreErrors.inc({ op: 'revoke' }, failed);
      this.log.warn({ failed }, 'could not copy revocations into the LiveStore; meta\'s list still applies here');
    }
  }

  /** Records a revocation just committed to meta, here and in the LiveStore. */
  async add(id: string, untilMs: number): Promise<void> {
    if (untilMs <= this.#now()) return;
    this.#fromMeta.set(id, Math.max(untilMs, this.#fromMeta.get(id) ?? 0));
    try {
      await this.live.revoke(id, untilMs);
    } catch (err) {
      this.metrics.liveStoreErrors.inc({ op: 'revoke' });
      throw err;
    }
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, until] of this.#fromMeta) if (until <= now) this.#fromMeta.delete(id);
  }
}
