// The one load generator: a closed loop of `concurrency` workers, over an HTTP/1.1
// keep-alive Agent with exactly that many sockets (runLoad) or around calls of the
// client library (runClosedLoop). Workers run through a warm-up, then a
// measured window; only requests that complete inside the window count. Bounded in time
// (window + per-request timeout) and in count (maxOps).
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import { CLOCK_TICKS_PER_S, machineTicks, processTicks } from './proc-stats.js';

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: Buffer;
  readonly headers?: Record<string, string>;
}

export interface LoadOptions {
  readonly url: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly maxOps: number;
  readonly timeoutMs: number;
  /** The request of worker `worker`'s `i`-th operation (i counts from 0). */
  readonly request: (worker: number, i: number) => RequestSpec;
  /** True when the answer is a success. */
  readonly check: (status: number, body: Buffer) => boolean;
  /** The processes of the system under test (their CPU time per operation is reported). */
  readonly serverPids: readonly number[];
  /** Every process of ours (both clusters, the harness), to estimate other work on the host. */
  readonly ourPids: () => readonly number[];
}

export interface LoadResult {
  concurrency: number;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  bytesPerResponse: number;
  connections: number;
  /** CPU time of the system's processes per operation, in microseconds. */
  serverCpuUsPerOp: number;
  /** This process's CPU use during the window, in % of one core. */
  clientCpuPct: number;
  /** CPU used by processes that are not ours during the window, in % of one core. */
  otherCpuPct: number;
  firstError?: string;
}

interface Exchange {
  status: number;
  body: Buffer;
}

function exchange(agent: Agent, target: URL, spec: RequestSpec, timeoutMs: number, sockets: Set<Socket>): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.body) headers['content-length'] = String(spec.body.length);
    const req = request({ agent, host: target.hostname, port: target.port, method: spec.method, path: spec.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('socket', (s) => sockets.add(s));
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(spec.body);
  });
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const target = new URL(o.url);
  const sockets = new Set<Socket>();
  try {
    return await runClosedLoop({
      ...o,
      op: async (w, i) => {
        const res = await exchange(agent, target, o.request(w, i), o.timeoutMs, sockets);
        if (!o.check(res.status, res.body)) throw new Error(`HTTP ${res.status}: ${res.body.subarray(0, 200).toString()}`);
        return res.body.length;
      },
      connections: () => sockets.size,
    });
  } finally {
    agent.destroy();
  }
}

export interface LoopOptions extends Omit<LoadOptions, 'url' | 'request' | 'check'> {
  /** Worker `worker`'s `i`-th operation; resolves with the bytes received, throws on failure. */
  readonly op: (worker: number, i: number) => Promise<number>;
  /** Connections opened (0 when the operation manages its own). */
  readonly connections?: () => number;
}

/** The closed loop itself, for any operation (an HTTP exchange, a call of the client library). */
export async function runClosedLoop(o: LoopOptions): Promise<LoadResult> {
  const hist = new LatencyHistogram();
  let measuring = false;
  let stopping = false;
  let ops = 0;
  let errors = 0;
  let bytes = 0;
  let issued = 0;
  let firstError: string | undefined;
  let windowStart = 0;
  let windowEnd = 0;

  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stopping && issued < o.maxOps; i++) {
      issued++;
      const t0 = performance.now();
      let ok = false;
      let size = 0;
      try {
        size = await withTimeout(o.op(w, i), o.timeoutMs);
        ok = true;
      } catch (err) {
        firstError ??= (err as Error).message;
      }
      const t1 = performance.now();
      if (!ok) await sleep(10); // a failing server is not hammered in a tight loop
      if (!measuring || stopping) continue;
      if (ok) {
        ops++;
        bytes += size;
        hist.record((t1 - t0) * 1000);
      } else errors++;
      if (issued >= o.maxOps) windowEnd = t1; // the count bound ends the window early
    }
  };

  const workers = Array.from({ length: o.concurrency }, (_, w) => worker(w));
  await sleep(o.warmupMs);
  const cpu0 = cpuSnapshot(o);
  measuring = true;
  windowStart = performance.now();
  await Promise.race([sleep(o.measureMs), Promise.all(workers)]);
  stopping = true;
  if (windowEnd === 0) windowEnd = performance.now();
  const cpu1 = cpuSnapshot(o);
  await Promise.all(workers);

  const seconds = (windowEnd - windowStart) / 1000;
  const tickUs = 1e6 / CLOCK_TICKS_PER_S;
  const serverTicks = cpu1.server - cpu0.server;
  const ourTicks = cpu1.ours - cpu0.ours;
  const busyTicks = cpu1.machine.busy - cpu0.machine.busy;
  const wallTicks = seconds * CLOCK_TICKS_PER_S;
  return {
    concurrency: o.concurrency,
    ops,
    errors,
    seconds,
    opsPerSec: seconds > 0 ? ops / seconds : 0,
    p50Ms: hist.quantile(0.5) / 1000,
    p99Ms: hist.quantile(0.99) / 1000,
    maxMs: hist.max / 1000,
    meanMs: hist.mean / 1000,
    bytesPerResponse: ops > 0 ? bytes / ops : 0,
    connections: o.connections?.() ?? 0,
    serverCpuUsPerOp: ops > 0 ? (serverTicks * tickUs) / ops : 0,
    clientCpuPct: wallTicks > 0 ? (100 * (cpu1.client - cpu0.client)) / wallTicks : 0,
    otherCpuPct: wallTicks > 0 ? Math.max(0, (100 * (busyTicks - ourTicks)) / wallTicks) : 0,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

/** Bounds an operation that has no timeout of its own (the HTTP one has; this is a backstop). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function cpuSnapshot(o: Pick<LoadOptions, 'serverPids' | 'ourPids'>): { server: number; client: number; ours: number; machine: { busy: number; total: number } } {
  const sum = (pids: readonly number[]): number => pids.reduce((s, p) => s + processTicks(p), 0);
  const client = processTicks(process.pid);
  return { server: sum(o.serverPids), client, ours: sum(o.ourPids()), machine: machineTicks() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
