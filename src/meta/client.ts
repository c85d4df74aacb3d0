// A client of the meta API for every other role and the CLI: tries each endpoint,
// follows the leader hint, retries 503s with backoff, and submits commands through a
// client session (the same sequence on every retry, so a command applies once).
import { randomUUID } from 'node:crypto';
import { httpRequest, readJsonOrNull, readText } from '../common/http-request.js';
import type { ApplyResult, Command, MetaState } from './state.js';
import type { MemberStatus } from './member.js';

export class MetaClientError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
    this.name = 'MetaClientError';
  }
}

/**
 * Test-only: OPERA_META_VIA="URL=VIA,..." makes every MetaClient of this process dial VIA
 * wherever it would dial the meta API at URL (its configured endpoints, the leader named
 * in an X-Opera-Leader hint, a status probe), as `meta start --peer-raft` does for Raft
 * links. The Jepsen harness routes each process's meta calls through proxies of its own
 * this way, to cut one process from meta. Unset (production): nothing is rewritten.
 */
export const META_VIA_ENV = 'OPERA_META_VIA';

/** Parses OPERA_META_VIA ("URL=VIA,..."); URLs are compared without a trailing slash. */
export function parseMetaVia(text: string | undefined): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const item of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new Error(`${META_VIA_ENV}: "${item}" is not URL=VIA`);
    out.set(normalize(item.slice(0, eq)), normalize(item.slice(eq + 1)));
  }
  return out;
}

function normalize(url: string): string {
  return (url.startsWith('http') ? url : `http://${url}`).replace(/\/+$/, '');
}

const via = parseMetaVia(process.env[META_VIA_ENV]);
const dialled = (url: string): string => {
  const u = normalize(url);
  return via.get(u) ?? u;
};

export interface MetaClientOptions {
  readonly endpoints: string[];
  /** The bearer token, or a function giving the current one (credentials that get renewed). */
  readonly token: string | (() => string);
  /** Give up on one call after this long (default 15 s). */
  readonly deadlineMs?: number;
  readonly clientId?: string;
}

export interface WatchResult {
  version: number;
  changed: boolean;
  settings: MetaState['settings'];
  nodes: MetaState['nodes'];
  partitions: MetaState['partitions'];
}

export class MetaClient {
  private endpoints: string[];
  private preferred = 0;
  private seq = 0;
  readonly clientId: string;

  constructor(private readonly opts: MetaClientOptions) {
    if (opts.endpoints.length === 0) throw new Error('no meta endpoints given');
    this.endpoints = opts.endpoints.map(dialled);
    this.clientId = opts.clientId ?? randomUUID();
  }

  /** One request with failover; 4xx answers are final, 503 and network errors are retried. */
  async request<T>(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + (this.opts.deadlineMs ?? 15_000);
    let lastError = 'no endpoint answered';
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const base = this.endpoints[this.preferred % this.endpoints.length]!;
      try {
        const res = await httpRequest(method, base + path, {
          headers: { authorization: `Bearer ${this.#token()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const json = (await readJsonOrNull(res.body)) as { error?: { code: string; message: string } } | null;
        if (res.status >= 200 && res.status < 300) return json as T;
        const code = json?.error?.code ?? 'http-error';
        const message = json?.error?.message ?? `HTTP ${res.status}`;
        if (res.status !== 503) throw new MetaClientError(message, res.status, code);
        lastError = message;
        const leader = res.header('x-opera-leader');
        if (leader) this.useEndpoint(leader);
        else this.preferred++;
      } catch (err) {
        if (err instanceof MetaClientError) throw err;
        lastError = `${base}: ${(err as Error).message}`;
        this.preferred++;
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
    }
    throw new MetaClientError(`meta is unavailable: ${lastError}`, 503, 'unavailable');
  }

  #token(): string {
    return typeof this.opts.token === 'function' ? this.opts.token() : this.opts.token;
  }

  private useEndpoint(url: string): void {
    const u = dialled(url);
    let i = this.endpoints.indexOf(u);
    if (i < 0) {
      this.endpoints.push(u);
      i = this.endpoints.length - 1;
    }
    this.preferred = i;
  }

  /** Submits a command exactly once; resolves with its result (ok or a refusal). */
  async command(command: Command): Promise<ApplyResult> {
    const seq = ++this.seq;
    const res = await this.request<{ result: ApplyResult }>('POST', '/v1/meta/commands', { clientId: this.clientId, seq, command });
    return res.result;
  }

  /**
   * Submits a command in someone else's client session: the caller chose the client id
   * and the sequence (the gateway, for a client's counter add) and retries with the same
   * pair itself. Resolves with the result meta recorded for that pair.
   */
  async commandAs(clientId: string, seq: number, command: Command, timeoutMs?: number): Promise<ApplyResult> {
    const res = await this.request<{ result: ApplyResult }>('POST', '/v1/meta/commands', { clientId, seq, command }, timeoutMs);
    return res.result;
  }

  /** A cluster counter's value (0 if never added to); linearizable unless asked otherwise. */
  async counter(name: string, consistency: 'linearizable' | 'local' = 'linearizable'): Promise<{ name: string; value: number; applied: number }> {
    return this.request('GET', `/v1/meta/counters/${encodeURIComponent(name)}?consistency=${consistency}`);
  }

  async state(consistency: 'linearizable' | 'local' = 'linearizable'): Promise<{ applied: number; state: MetaState }> {
    return this.request('GET', `/v1/meta/state?consistency=${consistency}`);
  }

  async watch(after: number, timeoutMs = 30_000): Promise<WatchResult> {
    return this.request('GET', `/v1/meta/watch?after=${after}&timeoutMs=${timeoutMs}`, undefined, timeoutMs + 10_000);
  }

  async status(): Promise<MemberStatus> {
    return this.request('GET', '/v1/meta/status');
  }

  /** The status of one endpoint only, without failover (for per-member health). */
  async statusOf(endpoint: string, timeoutMs = 2000): Promise<MemberStatus | null> {
    try {
      const res = await httpRequest('GET', `${dialled(endpoint)}/v1/meta/status`, {
        headers: { authorization: `Bearer ${this.#token()}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await readText(res.body);
      return res.status === 200 ? (JSON.parse(text) as MemberStatus) : null;
    } catch {
      return null;
    }
  }

  /** A consistent copy of the whole meta machine (state, sessions, addresses). */
  async backup(): Promise<Uint8Array> {
    const doc = await this.request<unknown>('GET', '/v1/meta/backup');
    return new TextEncoder().encode(JSON.stringify(doc));
  }

  async members(op: 'add' | 'remove' | 'transfer', body: { id: string; api?: string; raft?: string }): Promise<void> {
    await this.request('POST', '/v1/meta/members', { op, ...body }, 20_000);
  }
}
