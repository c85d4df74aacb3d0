// Counters and histograms with labels, in Prometheus text format. The set of label
// values must stay bounded (route templates, status codes), never ids or keys, or the
// exposition grows without limit.

export type LabelValues = Readonly<Record<string, string | number>>;

/** Prometheus label value escaping: backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: LabelValues, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Labels in a fixed order, so the same set always maps to the same series. */
function seriesKey(names: readonly string[], labels: LabelValues): string {
  return names.map((n) => String(labels[n] ?? '')).join('\u0000');
}

function pick(names: readonly string[], labels: LabelValues): LabelValues {
  return Object.fromEntries(names.map((n) => [n, labels[n] ?? '']));
}

export class CounterVec {
  private readonly series = new Map<string, { labels: LabelValues; value: number }>();

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}

  inc(labels: LabelValues, by = 1): void {
    const key = seriesKey(this.labelNames, labels);
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: pick(this.labelNames, labels), value: by });
  }

  /** The value of one series (0 when never incremented). */
  value(labels: LabelValues): number {
    return this.series.get(seriesKey(this.labelNames, labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const s of this.series.values()) lines.push(`${this.name}${labelText(s.labels)} ${s.value}`);
    return lines.join('\n');
  }
}

interface HistogramSeries {
  labels: LabelValues;
  counts: number[];
  sum: number;
  count: number;
}

export class HistogramVec {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  observe(labels: LabelValues, value: number): void {
    const key = seriesKey(this.labelNames, labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: pick(this.labelNames, labels), counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    s.sum += value;
    s.count += 1;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]! += 1;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText(s.labels, ['le', String(b)])} ${s.counts[i]}`));
      lines.push(
        `${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`,
        `${this.name}_sum${labelText(s.labels)} ${s.sum}`,
        `${this.name}_count${labelText(s.labels)} ${s.count}`,
      );
    }
    return lines.join('\n');
  }
}
