// The gateway's connection to meta. Its credential is a short-lived `gateway` token the
// gateway mints itself from the authority key (or, with --token-file, one the operator
// provides), replaced well before it expires. A new credential means a new MetaClient
// and so a new client session; commands are serialized, because a session runs one
// command at a time (a later sequence applied first would make an earlier one stale).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { mintToken, type Signer } from '../crypto/tokens.js';
import { MetaClient, type WatchResult } from '../meta/client.js';
import type { MemberStatus } from '../meta/member.js';
import type { ApplyResult, Command, MetaState } from '../meta/state.js';

export const DEFAULT_META_TOKEN_TTL_S = 3600;

export type MetaCredentialSource =
  | { readonly kind: 'mint'; readonly authority: Signer; readonly subject: string; readonly ttlSeconds?: number }
  | { readonly kind: 'file'; readonly path: string };

export interface MetaLinkOptions {
  readonly endpoints: readonly string[];
  readonly credential: MetaCredentialSource;
  readonly log: Logger;
  /** Give up on one meta call after this long (default 15 s). */
  readonly deadlineMs?: number;
  readonly now?: () => number;
}

/** How often a token file is re-read, so an operator can rotate it without a restart. */
const TOKEN_FILE_POLL_MS = 60_000;

export function defaultGatewaySubject(): string {
  return `gateway-${hostname()}`.slice(0, 200);
}

export class MetaLink {
  readonly endpoints: readonly string[];
  #client: MetaClient;
  #renewAtMs = Number.POSITIVE_INFINITY;
  #fileToken = '';
  #commandChain: Promise<unknown> = Promise.resolve();
  #poll: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  /** `fileToken`: the token read from the credential file (kind 'file' only). */
  private constructor(private readonly opts: MetaLinkOptions, fileToken: string | null) {
    if (opts.endpoints.length === 0) throw new Error('no meta endpoints given');
    this.endpoints = opts.endpoints.map((e) => (e.startsWith('http') ? e : `http://${e}`).replace(/\/$/, ''));
    this.#now = opts.now ?? Date.now;
    if (fileToken !== null) {
      this.#fileToken = fileToken;
      this.#poll = setInterval(() => void this.#reloadTokenFile(), TOKEN_FILE_POLL_MS);
      this.#poll.unref();
    }
    this.#client = this.#newClient(fileToken ?? this.#mint());
  }

  static async open(opts: MetaLinkOptions): Promise<MetaLink> {
    const fileToken = opts.credential.kind === 'file' ? await readTokenFile(opts.credential.path) : null;
    return new MetaLink(opts, fileToken);
  }

  /** The current client; a minted credential past half its life is replaced first. */
  client(): MetaClient {
    if (this.opts.credential.kind === 'mint' && this.#now() >= this.#renewAtMs) {
      this.#client = this.#newClient(this.#mint());
      this.opts.log.debug('meta credential renewed');
    }
    return this.#client;
  }

  /** Submits a command exactly once; one command at a time per gateway. */
  command(command: Command): Promise<ApplyResult> {
    const run = this.#commandChain.then(() => this.client().command(command));
    this.#commandChain = run.catch(() => undefined);
    return run;
  }

  state(): Promise<{ applied: number; state: MetaState }> {
    return this.client().state('linearizable');
  }

  watch(after: number, timeoutMs: number): Promise<WatchResult> {
    return this.client().watch(after, timeoutMs);
  }

  /**
   * The leader's status where it can be had: only the leader knows each member's health
   * and match index; any member's answer is the fallback.
   */
  async status(): Promise<MemberStatus> {
    const client = this.client();
    const answered = await client.status();
    if (answered.role === 'leader' || answered.leader === null) return answered;
    const url = answered.members.find((m) => m.id === answered.leader)?.url;
    if (url === null || url === undefined) return answered;
    return (await client.statusOf(url)) ?? answered;
  }

  close(): void {
    if (this.#poll) clearInterval(this.#poll);
  }

  #newClient(token: string): MetaClient {
    return new MetaClient({ endpoints: [...this.endpoints], token, ...(this.opts.deadlineMs !== undefined ? { deadlineMs: this.opts.deadlineMs } : {}) });
  }

  #mint(): string {
    const source = this.opts.credential;
    if (source.kind !== 'mint') throw new Error('unreachable: not a minted credential');
    const ttl = source.ttlSeconds ?? DEFAULT_META_TOKEN_TTL_S;
    const nowMs = this.#now();
    const iat = Math.floor(nowMs / 1000);
    this.#renewAtMs = nowMs + (ttl * 1000) / 2;
    return mintToken(source.authority, { role: 'gateway', sub: source.subject, iat, exp: iat + ttl });
  }

  async #reloadTokenFile(): Promise<void> {
    if (this.opts.credential.kind !== 'file') return;
    try {
      const token = await readTokenFile(this.opts.credential.path);
      if (token !== this.#fileToken) {
        this.#fileToken = token;
        this.#client = this.#newClient(token);
        this.opts.log.info({ file: this.opts.credential.path }, 'meta credential reloaded from its file');
      }
    } catch (err) {
      this.opts.log.warn({ file: this.opts.credential.path, err: (err as Error).message }, 'cannot re-read the meta token file; keeping the current credential');
    }
  }
}

async function readTokenFile(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read the meta token file ${path}: ${err.code ?? err.message}`);
  });
  const token = text.trim();
  if (token.length === 0 || /\s/.test(token)) throw new Error(`the meta token file ${path} must hold exactly one token`);
  return token;
}
