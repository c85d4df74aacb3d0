// The run's last line. Each slot reads one headline; a headline that was not measured
// (workload pending, reference unavailable, errors) prints `<name> n/a`, without a unit.
import type { Headline } from './context.js';

interface Slot {
  readonly key: string;
  readonly render: (n: string) => string;
  readonly digits: number;
  readonly scale: number;
}

const SLOTS: readonly Slot[] = [
  { key: 'meta', render: (n) => `meta ${n}x etcd`, digits: 2, scale: 1 },
  { key: 'small-put', render: (n) => `small-put ${n}x etcd`, digits: 2, scale: 1 },
  { key: 'small-get', render: (n) => `small-get ${n}x etcd`, digits: 2, scale: 1 },
  { key: 'large-put', render: (n) => `large-put ${n}% of limit`, digits: 0, scale: 100 },
  { key: 'repair', render: (n) => `repair ${n} MB/s`, digits: 0, scale: 1 },
];

export function summaryLine(headlines: ReadonlyMap<string, Headline>): string {
  const parts = SLOTS.map((s) => {
    const h = headlines.get(s.key);
    return h && Number.isFinite(h.value) ? s.render((h.value * s.scale).toFixed(s.digits)) : `${s.key} n/a`;
  });
  return `bench: ${parts.join(', ')}`;
}

export const HEADLINE_KEYS: readonly string[] = SLOTS.map((s) => s.key);
