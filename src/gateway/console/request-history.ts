// Requests answered by this gateway, per second, over the last minutes: the source of the
// console's request-rate and latency charts. Recorded as requests finish (no timer), in a
// ring of one-second buckets, so it costs the same whether anyone looks or not.

/** Latency bounds (seconds) of the per-second histogram used for the 95th percentile. */
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];

interface Bucket {
  second: number;
  count: number;
  errors: number;
  sumSeconds: number;
  counts: number[];
}

export interface RequestPoint {
  /** Start of the second (epoch ms). */
  readonly at: number;
  readonly requests: number;
  /** Answers with a 5xx status. */
  readonly errors: number;
  readonly meanMs: number | null;
  /** Upper bound of the bucket holding the 95th percentile (ms); null without requests. */
  readonly p95Ms: number | null;
}

export class RequestHistory {
  readonly #ring: Bucket[];

  constructor(readonly seconds = 600) {
    this.#ring = Array.from({ length: seconds }, () => ({ second: -1, count: 0, errors: 0, sumSeconds: 0, counts: BOUNDS.map(() => 0) }));
  }

  record(atMs: number, seconds: number, status: number): void {
    const second = Math.floor(atMs / 1000);
    const b = this.#bucket(second);
    b.count += 1;
    if (status >= 500) b.errors += 1;
    b.sumSeconds += seconds;
    const i = BOUNDS.findIndex((bound) => seconds <= bound);
    b.counts[i]! += 1;
  }

  /** One point per second from `nowMs - seconds` up to the last whole second, oldest first. */
  points(nowMs: number, seconds = this.seconds): RequestPoint[] {
    const last = Math.floor(nowMs / 1000) - 1;
    const out: RequestPoint[] = [];
    for (let s = last - Math.min(seconds, this.seconds) + 1; s <= last; s++) {
      const b = this.#ring[s % this.seconds];
      const live = b !== undefined && b.second === s;
      out.push(live ? pointOf(b) : { at: s * 1000, requests: 0, errors: 0, meanMs: null, p95Ms: null });
    }
    return out;
  }

  #bucket(second: number): Bucket {
    const b = this.#ring[second % this.seconds]!;
    if (b.second !== second) {
      b.second = second;
      b.count = 0;
      b.errors = 0;
      b.sumSeconds = 0;
      b.counts.fill(0);
    }
    return b;
  }
}

function pointOf(b: Bucket): RequestPoint {
  if (b.count === 0) return { at: b.second * 1000, requests: 0, errors: 0, meanMs: null, p95Ms: null };
  const rank = Math.ceil(b.count * 0.95);
  let seen = 0;
  let p95 = BOUNDS[BOUNDS.length - 2]!;
  for (let i = 0; i < BOUNDS.length; i++) {
    seen += b.counts[i]!;
    if (seen >= rank) {
      // The open last bucket reports the largest finite bound: "at least this".
      p95 = Number.isFinite(BOUNDS[i]!) ? BOUNDS[i]! : BOUNDS[BOUNDS.length - 2]!;
      break;
    }
  }
  return { at: b.second * 1000, requests: b.count, errors: b.errors, meanMs: (b.sumSeconds / b.count) * 1000, p95Ms: p95 * 1000 };
}
