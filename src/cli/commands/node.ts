// `opera node start`: one storage node process.
import { resolve } from 'node:path';
import { Option } from 'clipanion';
import { makeLogger, stopOnSignals } from '../../common/logger.js';
import { capacityWeight, DEFAULTS, parseListen, parseSize, type NodeOptions } from '../../node/config.js';
import { timingFromLease } from '../../node/replication/timing.js';
import { DEFAULT_TOMBSTONE_RETENTION_MS } from '../../node/store/options.js';
import { NotJoinedError, startNode } from '../../node/start.js';
import { OperaCommand, UsageError } from '../base.js';

export class NodeStartCommand extends OperaCommand {
  static override paths = [['node', 'start']];
  static override usage = OperaCommand.Usage({
    description: 'Run a storage node: partition replicas, replication, repair and scrubbing',
    details:
      'On first start the node makes its identity (DIR/identity.json) and joins through a gateway with a single-use join ' +
      'token, keeping what it receives in DIR/credentials.json (both mode 0600). Later starts reuse both: --gateway and ' +
      '--join-token are then not needed. Data lives in DIR/data (classic-level), or in memory with --memory. ' +
      'Each flag falls back to an environment variable: OPERA_NODE_DIR, OPERA_LISTEN, OPERA_GATEWAY, OPERA_JOIN_TOKEN, ' +
      'OPERA_ZONE, OPERA_CAPACITY, OPERA_NODE_LEASE_MS, OPERA_NODE_REPLICATION_TIMEOUT_MS, OPERA_NODE_HEARTBEAT_MS, OPERA_REPAIR_BANDWIDTH, ' +
      'OPERA_SCRUB_INTERVAL, OPERA_TOMBSTONE_RETENTION.',
    examples: [
      ['First start', 'opera node start --gateway http://127.0.0.1:7300 --join-token opera1.… --listen 127.0.0.1:7401 --dir ./node1 --zone a'],
      ['Any later start', 'opera node start --listen 127.0.0.1:7401 --dir ./node1'],
    ],
  });
  dir = Option.String('--dir', { description: 'The node directory (identity, credentials, data)' });
  listen = Option.String('--listen', { description: 'HOST:PORT to serve on' });
  gateway = Option.String('--gateway', { description: 'Gateway URL for the first start (join)' });
  joinToken = Option.String('--join-token', { description: 'Single-use join token for the first start' });
  zone = Option.String('--zone', { description: 'Failure zone (replicas of a partition go to distinct zones)' });
  capacity = Option.String('--capacity', { description: 'Disk space for data, e.g. 500G (the placement weight; default 100G)' });
  memory = Option.Boolean('--memory', false, { description: 'Keep data in memory (memory-level): for caches and throwaway clusters' });
  id = Option.String('--id', { description: 'Node id on first start (default n- and 8 random hex digits)' });
  advertise = Option.String('--advertise', { description: 'URL other processes use to reach this node (default http://HOST:PORT of --listen)' });
  noSync = Option.Boolean('--no-fsync', false, { description: 'Skip fsync of commits (throwaway clusters only: loses data on power loss)' });
  leaseMs = Option.String('--lease-ms', { description: `Read lease of a primary; failover takes about 1.25 times this (default ${DEFAULTS.timing.leaseMs})` });
  replicationTimeoutMs = Option.String('--replication-timeout-ms', { description: 'Remove an in-sync replica that makes no progress for this long (default three quarters of the lease)' });
  heartbeatMs = Option.String('--heartbeat-ms', { description: `Heartbeat to meta every this many ms (default ${DEFAULTS.heartbeatMs})` });
  repairBandwidth = Option.String('--repair-bandwidth', { description: 'Bytes per second for partition copies, e.g. 50M; 0 for no limit (default 50M)' });
  scrubInterval = Option.String('--scrub-interval', { description: 'Time between scrub passes, e.g. 24h, 10m, 30s (default 24h)' });
  dropGrace = Option.String('--drop-grace', { description: 'Keep a partition no longer assigned here this long before deleting it (default 10m)' });
  tombstoneRetention = Option.String('--tombstone-retention', { description: 'Keep the tombstone of a delete this long before purging it (default 24h; at least 1m and ten lease periods)' });

  async run(): Promise<number> {
    const env = process.env;
    const dirValue = this.dir ?? env['OPERA_NODE_DIR'];
    const listenValue = this.listen ?? env['OPERA_LISTEN'];
    if (!dirValue) throw new UsageError('give --dir DIR (or OPERA_NODE_DIR)');
    if (!listenValue) throw new UsageError('give --listen HOST:PORT (or OPERA_LISTEN)');
    let options: NodeOptions;
    let capacityBytes: number;
    const log = makeLogger('node', this.id ? { id: this.id } : {});
    try {
      const { host, port } = parseListen(listenValue);
      const lease = this.leaseMs ?? env['OPERA_NODE_LEASE_MS'];
      const base = lease === undefined ? DEFAULTS.timing : timingFromLease(count(lease, '--lease-ms', 100, 600_000));
      const timeout = this.replicationTimeoutMs ?? env['OPERA_NODE_REPLICATION_TIMEOUT_MS'];
      const timing = timeout === undefined ? base : { ...base, timeoutMs: count(timeout, '--replication-timeout-ms', 10, 3_600_000) };
      const heartbeat = this.heartbeatMs ?? env['OPERA_NODE_HEARTBEAT_MS'];
      const bandwidth = this.repairBandwidth ?? env['OPERA_REPAIR_BANDWIDTH'];
      const scrub = this.scrubInterval ?? env['OPERA_SCRUB_INTERVAL'];
      const grace = this.dropGrace ?? env['OPERA_NODE_DROP_GRACE'];
      const retention = this.tombstoneRetention ?? env['OPERA_TOMBSTONE_RETENTION'];
      const tombstoneRetentionMs = retention === undefined ? DEFAULT_TOMBSTONE_RETENTION_MS : parseDuration(retention, '--tombstone-retention');
      // A tombstone must outlive any in-sync replica's chance to be missing its delete
      // (a silent replica is removed within the replication timeout).
      const minRetention = Math.max(60_000, 10 * (timing.leaseMs + timing.graceMs + timing.timeoutMs));
      if (tombstoneRetentionMs < minRetention) throw new Error(`--tombstone-retention must be at least ${minRetention} ms`);
      capacityBytes = parseSize(this.capacity ?? env['OPERA_CAPACITY'] ?? '100G', '--capacity');
      const advertise = this.advertise ?? env['OPERA_ADVERTISE'];
      options = {
        dir: resolve(dirValue),
        host,
        port,
        ...(advertise !== undefined ? { advertiseUrl: checkUrl(advertise) } : {}),
        memory: this.memory,
        sync: !this.noSync,
        timing,
        heartbeatMs: heartbeat === undefined ? DEFAULTS.heartbeatMs : count(heartbeat, '--heartbeat-ms', 50, 600_000),
        repairBandwidth: bandwidth === undefined ? DEFAULTS.repairBandwidth : parseSize(bandwidth, '--repair-bandwidth'),
        scrubIntervalMs: scrub === undefined ? DEFAULTS.scrubIntervalMs : parseDuration(scrub, '--scrub-interval'),
        dropGraceMs: grace === undefined ? DEFAULTS.dropGraceMs : parseDuration(grace, '--drop-grace'),
        store: { tombstoneRetentionMs },
        drainTimeoutMs: DEFAULTS.drainTimeoutMs,
        limits: DEFAULTS.limits,
        log,
      };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const gateway = this.gateway ?? env['OPERA_GATEWAY'];
    const joinToken = this.joinToken ?? env['OPERA_JOIN_TOKEN'];
    const zone = this.zone ?? env['OPERA_ZONE'];
    let node;
    try {
      node = await startNode(options, {
        capacity: capacityWeight(capacityBytes),
        ...(gateway !== undefined ? { gateway } : {}),
        ...(joinToken !== undefined ? { joinToken } : {}),
        ...(zone !== undefined ? { zone } : {}),
        ...(this.id !== undefined ? { id: this.id } : {}),
      });
    } catch (err) {
      if (err instanceof NotJoinedError) throw new UsageError(err.message);
      throw err;
    }
    stopOnSignals(log, () => node.drain());
    await new Promise(() => {}); // serve until a signal
    return 0;
  }
}

function count(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${what} must be an integer from ${min} to ${max}`);
  return n;
}

/** "250ms", "30s", "10m", "24h", or plain milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) throw new Error(`${what} must be a duration such as 500ms, 30s, 10m or 24h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const n = Math.round(Number(m[1]) * unit);
  if (n < 1) throw new Error(`${what} must be positive`);
  return n;
}

function checkUrl(text: string): string {
  const u = new URL(text);
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.port === '') throw new Error('--advertise must be http(s)://HOST:PORT');
  return `${u.protocol}//${u.host}`;
}

export const nodeCommands = [NodeStartCommand];
