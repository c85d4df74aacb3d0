// Cluster counters through the gateway (docs/gateway.md "Counters"): add to one exactly
// once, read one linearizably. An add keeps its (client id, sequence) on every retry, so
// a timeout, a 503 or a gateway failover never adds twice; the client runs one add at a
// time, as meta's client sessions require.
import { randomUUID } from 'node:crypto';
import { GatewayError, gatewayJson, type GatewayAccess } from './gateway-http.js';

export interface CounterAdded {
  readonly name: string;
  readonly value: number;
  readonly delta: number;
  readonly clientId: string;
  readonly seq: number;
}

export interface CounterClientOptions {
  /** Names this client's session; a fresh UUID unless resuming one (then give `lastSeq` too). */
  readonly clientId?: string;
  /** The last sequence this client id used (a resumed session continues after it). */
  readonly lastSeq?: number;
  /** Give up on one add after this long, retries included (default 60 s). */
  readonly deadlineMs?: number;
  /** One request's timeout (default 10 s). */
  readonly requestTimeoutMs?: number;
}

/** Answers after which the same add may be sent again: nothing, or the same add, happened. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

export class CounterClient {
  readonly clientId: string;
  #seq: number;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly access: GatewayAccess, private readonly opts: CounterClientOptions = {}) {
    this.clientId = opts.clientId ?? randomUUID();
    this.#seq = opts.lastSeq ?? 0;
  }

  /** The last sequence used (persist it with the client id to resume the session later). */
  get lastSeq(): number {
    return this.#seq;
  }

  /**
   * Adds `delta` to the counter exactly once and answers its new value. Adds of one
   * client run one after another. Throws GatewayError when the add was refused, or
   * when the deadline passed without a definite answer (the add may then have happened:
   * `addWithSeq` with the same sequence finds out).
   */
  add(name: string, delta = 1): Promise<CounterAdded> {
    const run = this.#chain.then(() => this.addWithSeq(name, ++this.#seq, delta));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** One add with a given sequence, retried with that sequence until a definite answer or the deadline. */
  async addWithSeq(name: string, seq: number, delta = 1): Promise<CounterAdded> {
    const deadline = Date.now() + (this.opts.deadlineMs ?? 60_000);
    const path = `/v1/counters/${encodeURIComponent(name)}`;
    let last: GatewayError | null = null;
    for (let attempt = 0; attempt === 0 || Date.now() < deadline; attempt++) {
      try {
        return await gatewayJson<CounterAdded>(this.access, 'POST', path, { clientId: this.clientId, seq, delta }, this.opts.requestTimeoutMs ?? 10_000);
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        // A refusal is final; an unreachable gateway, a timeout or a 5xx leaves the outcome open.
        if (err.code !== 'unreachable' && !RETRYABLE_STATUS.has(err.status)) throw err;
        last = err;
      }
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
    }
    throw new GatewayError(`no definite answer for add ${seq} of client ${this.clientId} before the deadline: ${last?.message ?? 'no attempt'}`, 503, 'unknown-outcome');
  }

  /** The counter's current value (0 if never added to), linearizable. */
  async get(name: string): Promise<number> {
    const res = await gatewayJson<{ name: string; value: number }>(this.access, 'GET', `/v1/counters/${encodeURIComponent(name)}`);
    return res.value;
  }
}
