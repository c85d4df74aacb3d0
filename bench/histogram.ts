// Latency histogram with HdrHistogram-style log buckets: every power of two is split
// into 128 linear sub-buckets, so a percentile is within 1% of the true value while
// memory stays fixed (64 × 128 counters) however many samples are recorded.
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;

export class LatencyHistogram {
  private readonly counts = new Float64Array(64 * SUB_COUNT);
  private total = 0;
  private sum = 0;
  private maxUs = 0;

  /** Records one latency, in microseconds (fractions are rounded up to 1 µs). */
  record(us: number): void {
    const v = Math.max(1, Math.ceil(us));
    this.counts[bucketOf(v)]! += 1;
    this.total += 1;
    this.sum += v;
    if (v > this.maxUs) this.maxUs = v;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxUs;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** The value at quantile q (0..1): the upper edge of the bucket holding it, capped by the max. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdge(i), this.maxUs);
    }
    return this.maxUs;
  }
}

function bucketOf(v: number): number {
  const exp = Math.floor(Math.log2(v));
  if (exp < SUB_BITS) return v; // small values get exact buckets
  const sub = Math.floor(v / 2 ** (exp - SUB_BITS)) - SUB_COUNT; // 0..127
  return (exp - SUB_BITS + 1) * SUB_COUNT + sub;
}

function upperEdge(bucket: number): number {
  if (bucket < SUB_COUNT) return bucket;
  const exp = Math.floor(bucket / SUB_COUNT) - 1 + SUB_BITS;
  const sub = bucket % SUB_COUNT;
  const width = 2 ** (exp - SUB_BITS);
  return (SUB_COUNT + sub + 1) * width - 1;
}
