// The gateway's Prometheus metrics. Labels are route templates, methods and status
// codes only: never a key, a token id or anything a caller chooses freely.
import { CounterVec, HistogramVec } from '../common/labelled-metrics.js';
import { metric } from '../common/prometheus.js';
import { RequestHistory } from './console/request-history.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface GatewayGauges {
  /** The partition map version of the cache, or -1 before the first load. */
  readonly mapVersion: number;
  /** Seconds since meta last answered, or -1 if it never did. */
  readonly metaLastContactSeconds: number;
  readonly ready: boolean;
  readonly revocationsCached: number;
}

export class GatewayMetrics {
  readonly requests = new CounterVec('opera_gateway_requests_total', 'HTTP requests answered, by route template, method and status', [
    'route',
    'method',
    'status',
  ]);
  readonly latency = new HistogramVec(
    'opera_gateway_request_duration_seconds',
    'HTTP request latency by route template and method',
    ['route', 'method'],
    LATENCY_BUCKETS,
  );
  readonly liveStoreErrors = new CounterVec('opera_gateway_live_store_errors_total', 'LiveStore calls that failed, by operation', ['op']);
  readonly metaErrors = new CounterVec('opera_gateway_meta_errors_total', 'Failed calls to meta, by operation', ['op']);
  readonly mapRefreshes = new CounterVec('opera_gateway_map_refreshes_total', 'Partition map loads from meta, by cause', ['cause']);
  readonly rateLimited = new CounterVec('opera_gateway_rate_limited_total', 'Requests refused by a rate limit, by route template', ['route']);

  /** The last minutes, second by second, for the console's charts. */
  readonly history = new RequestHistory();

  /** Records one answered request, finished at `atMs`. */
  observe(route: string, method: string, status: number, seconds: number, atMs: number = Date.now()): void {
    this.requests.inc({ route, method, status });
    this.latency.observe({ route, method }, seconds);
    this.history.record(atMs, seconds, status);
  }

  render(gauges: GatewayGauges): string {
    return [
      this.requests.render(),
      this.latency.render(),
      this.liveStoreErrors.render(),
      this.metaErrors.render(),
      this.mapRefreshes.render(),
      this.rateLimited.render(),
      metric('opera_gateway_map_version', 'gauge', 'Partition map version held by this gateway (-1: not loaded)', [{ value: gauges.mapVersion }]),
      metric('opera_gateway_meta_last_contact_seconds', 'gauge', 'Seconds since meta last answered (-1: never)', [
        { value: gauges.metaLastContactSeconds },
      ]),
      metric('opera_gateway_ready', 'gauge', '1 when this gateway reports ready', [{ value: gauges.ready ? 1 : 0 }]),
      metric('opera_gateway_revocations_cached', 'gauge', 'Revoked credential ids known from meta', [{ value: gauges.revocationsCached }]),
    ].join('\n') + '\n';
  }
}
