// The charts: request rate and latency of this gateway, replication lag, repair
// throughput, over the last minutes. The first view of a stream brings the history; later
// ones bring the newest points, merged here by time.
import { lineChart } from './chart.js';
import { fill } from './dom.js';
import { bytes, number } from './format.js';
import type { ConsoleView, RequestPoint, TelemetrySample } from './types.js';

const WINDOW_MS = 10 * 60_000;

function merge<T extends { at: number }>(into: Map<number, T>, points: readonly T[], now: number): void {
  for (const p of points) into.set(p.at, p);
  for (const at of into.keys()) if (at < now - WINDOW_MS) into.delete(at);
}

function sorted<T extends { at: number }>(m: Map<number, T>): T[] {
  return [...m.values()].sort((a, b) => a.at - b.at);
}

export class ChartsView {
  readonly #requests = new Map<number, RequestPoint>();
  readonly #samples = new Map<number, TelemetrySample>();

  /** Takes in the telemetry of every view, whether the charts are shown or not. */
  absorb(v: ConsoleView): void {
    merge(this.#requests, v.telemetry.requests, v.at);
    merge(this.#samples, v.telemetry.samples, v.at);
  }

  render(root: HTMLElement, v: ConsoleView): void {
    const requests = sorted(this.#requests);
    const samples = sorted(this.#samples);
    fill(root,
      lineChart('chart-rate', 'Requests per second (this gateway)', [
        { name: 'requests/s', points: requests.map((p) => ({ at: p.at, value: p.requests })) },
        { name: 'errors/s', points: requests.map((p) => ({ at: p.at, value: p.errors })) },
      ], (n) => number(n, n < 10 ? 1 : 0), v.at, WINDOW_MS),
      lineChart('chart-latency', 'Latency (ms)', [
        { name: 'p95', points: requests.map((p) => ({ at: p.at, value: p.p95Ms })) },
        { name: 'mean', points: requests.map((p) => ({ at: p.at, value: p.meanMs })) },
      ], (n) => `${number(n, n < 10 ? 1 : 0)} ms`, v.at, WINDOW_MS),
      lineChart('chart-lag', 'Replication lag (largest, in writes)', [
        { name: 'lag', points: samples.map((p) => ({ at: p.at, value: p.replicationLag })) },
      ], (n) => number(n), v.at, WINDOW_MS),
      lineChart('chart-repair', 'Repair throughput', [
        { name: 'copied', points: samples.map((p) => ({ at: p.at, value: p.repairBytesPerSecond })) },
      ], (n) => `${bytes(n)}/s`, v.at, WINDOW_MS),
    );
  }
}
