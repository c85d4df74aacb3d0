// Reads Prometheus text exposition (what every /metrics of this project renders): one
// sample per line, `name{label="value",...} number`. Comments and malformed lines are
// skipped: a scrape is best effort, never a reason to fail.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[4]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** The sum of every sample named `name` (0 when there is none). */
export function sumOf(samples: readonly Sample[], name: string): number {
  return samples.reduce((s, x) => (x.name === name ? s + x.value : s), 0);
}

/** The largest sample named `name`, or null when there is none. */
export function maxOf(samples: readonly Sample[], name: string): number | null {
  let max: number | null = null;
  for (const x of samples) if (x.name === name && (max === null || x.value > max)) max = x.value;
  return max;
}
