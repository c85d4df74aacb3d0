// A storage node process: the store, the HTTP API, the partition map, heartbeats, the
// replication roles (primaries, replicas, learners), beacons, failover campaigns and the
// scrubber, wired together. start() brings it up; drain() is the SIGTERM path: hand the
// primaries over and leave the in-sync sets, stop accepting, finish what is in flight,
// stop the loops, close the store.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import { MetaClient } from '../meta/client.js';
import type { NodeOptions } from './config.js';
import type { NodeContext } from './context.js';
import type { NodeCredentials } from './credentials.js';
import { Heartbeat } from './heartbeat.js';
import { nodeApp, RequestGate } from './http/app.js';
import { nodeRoutes } from './http/node-routes.js';
import { batchRoutes } from './http/batch-route.js';
import { objectRoutes } from './http/object-routes.js';
import { replicationRoutes } from './http/replication-routes.js';
import type { NodeIdentity } from './identity.js';
import { leaveReplicaSets } from './drain.js';
import { LearnerTasks } from './learner.js';
import { MapView, SerialCommands, sleep } from './meta-link.js';
import { NodeMetrics, type GaugeSnapshot } from './metrics.js';
import { BeaconSender } from './replication/beacons.js';
import { PrimaryBalancer } from './replication/balancer.js';
import { Campaigner } from './replication/campaign.js';
import { PeerClient } from './replication/peers.js';
import { ReplicaLeases } from './replication/replica-core.js';
import { checkTiming } from './replication/timing.js';
import { CredentialRenewer } from './renewal.js';
import { PartitionRoles } from './roles.js';
import { Scrubber } from './scrubber.js';
import { TombstonePurger } from './tombstones.js';
import { NodeStore, type StoreDb } from './store/index.js';
import { KeyedMutex } from './store/keyed-mutex.js';
import { TokenBucket } from './throttle.js';
import { delaySyncedWrites, diskFaultsFromEnv } from '../common/fault-disk.js';

const REVOCATIONS_EVERY_MS = 30_000;

export class StorageNode {
  readonly #stops: (() => Promise<void> | void)[] = [];
  #stopping: Promise<void> | null = null;
  #revoked = new Set<string>();
  /** The drain's first half (drain.ts), set once the loops run. */
  #leave: ((deadline: number) => Promise<void>) | null = null;
  #gauges: GaugeSnapshot = { storedBytes: 0, storedObjects: 0, tombstones: 0, primaries: 0, leases: 0, lag: [] };

  private constructor(
    readonly options: NodeOptions,
    readonly identity: NodeIdentity,
    readonly url: string,
    readonly server: Server,
    readonly gate: RequestGate,
    readonly context: NodeContext,
    readonly roles: PartitionRoles,
    readonly scrubber: Scrubber,
  ) {}

  get nodeId(): string {
    return this.identity.nodeId;
  }

  static async start(options: NodeOptions, identity: NodeIdentity, credentials: NodeCredentials): Promise<StorageNode> {
    checkTiming(options.timing);
    if (credentials.nodeId !== identity.nodeId) throw new Error(`credentials.json is for ${credentials.nodeId}, identity.json for ${identity.nodeId}`);
    const log = options.log;
    const url = (options.advertiseUrl ?? `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`).replace(/\/+$/, '');
    const db = await openDatabase(options);
    const disk = options.memory ? null : diskFaultsFromEnv(process.env, (msg, details) => log.warn(details ?? {}, msg));
    const store = await NodeStore.open(disk ? delaySyncedWrites(db, disk) : db, { ...options.store, sync: options.sync });
    if (store.recovery.orphanChunks > 0 || store.recovery.partitionsDropped.length > 0) log.info({ recovery: store.recovery }, 'store recovered after an unclean stop');
    // Renewal replaces the credentials; every client reads the token through the holder.
    const holder = { credentials };
    const token = (): string => holder.credentials.token;
    const metaOf = (): MetaClient => new MetaClient({ endpoints: [...credentials.metaEndpoints], token, deadlineMs: 20_000 });
    const metaClient = metaOf();
    const now = (): number => performance.now();
    let roles: PartitionRoles | null = null;
    const map = new MapView(metaOf(), log, now, () => (roles?.soloPrimary() ? Math.max(50, Math.floor(options.timing.leaseMs / 3)) : 30_000));
    let node: StorageNode; // assigned below; the closures that read it run after start
    const metrics = new NodeMetrics(() => node.#gauges);
    const ctx: NodeContext = {
      self: identity.nodeId,
      url,
      store,
      map,
      control: new SerialCommands(metaOf()),
      metaClient,
      peers: new PeerClient(token, identity.nodeId),
      leases: new ReplicaLeases(identity.nodeId, options.timing, now()),
      timing: options.timing,
      log,
      metrics,
      repairBucket: options.repairBandwidth > 0 ? new TokenBucket(options.repairBandwidth, Math.max(options.repairBandwidth / 4, 1024 * 1024), now()) : null,
      applyLocks: new KeyedMutex<number>(),
      now,
    };
    const learners = new LearnerTasks(ctx);
    roles = new PartitionRoles(ctx, learners, options.dropGraceMs);
    const scrubber = new Scrubber(ctx, roles, options.scrubIntervalMs);
    const gate = new RequestGate();
    const routes = [...nodeRoutes(ctx, roles, scrubber, gate), ...objectRoutes(ctx, roles, options.limits, (p) => scrubber.checkPartition(p)), ...batchRoutes(ctx, roles), ...replicationRoutes(ctx, roles, learners)];
    const app = nodeApp({
      routes, metrics, log, gate,
      auth: { authorityPublicKey: credentials.authorityPublicKey, isRevoked: (id) => node.#revoked.has(id) },
    });
    const server = createServer(app.callback());
    server.headersTimeout = 20_000;
    server.requestTimeout = 0; // values take as long as they take; idle sockets time out instead
    server.setTimeout(120_000);
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    node = new StorageNode(options, identity, url, server, gate, ctx, roles, scrubber);
    node.#stops.push(async () => {
      await store.close();
      await db.close(); // NodeStore does not own a database it was handed
    });
    log.info({ nodeId: identity.nodeId, url, memory: options.memory }, 'node listening');
    await node.#startLoops(credentials, holder, metaOf);
    return node;
  }

  async #startLoops(credentials: NodeCredentials, holder: { credentials: NodeCredentials }, metaOf: () => MetaClient): Promise<void> {
    const { context: ctx, roles, scrubber, options } = this;
    for (;;) {
      try {
        await ctx.map.start();
        break;
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'cannot load the partition map yet; retrying');
        await sleep(1000);
      }
    }
    if (ctx.map.current?.settings?.clusterId !== undefined && ctx.map.current.settings.clusterId !== credentials.clusterId) {
      throw new Error(`this node belongs to cluster ${credentials.clusterId}, but meta serves cluster ${ctx.map.current.settings.clusterId}`);
    }
    roles.start();
    const beacons = new BeaconSender(ctx, () => roles.drivers());
    beacons.start();
    const campaigner = new Campaigner(ctx);
    campaigner.start();
    const balancer = new PrimaryBalancer(ctx, () => roles.drivers());
    balancer.start();
    this.#leave = async (deadline) => {
      // Leaving: never campaign for, nor be handed, a partition; then hand everything away.
      campaigner.stop();
      await balancer.stop();
      roles.beginDrain();
      await leaveReplicaSets(ctx, roles, deadline);
    };
    const heartbeat = new Heartbeat(new SerialCommands(metaOf()), this.nodeId, this.url, options.heartbeatMs, ctx.log);
    heartbeat.start();
    const renewer = new CredentialRenewer(options.dir, this.identity, holder, ctx.log);
    renewer.start();
    scrubber.start();
    const purger = new TombstonePurger(ctx, roles, tombstonePurgeEvery(ctx.store.tombstoneRetentionMs));
    purger.start();
    const gauges = setInterval(() => void this.#refreshGauges(), 1000);
    const revocations = setInterval(() => void this.#refreshRevocations(), REVOCATIONS_EVERY_MS);
    void this.#refreshRevocations();
    // Stopped in reverse order: the loops first, then the map, then the store.
    this.#stops.unshift(async () => {
      clearInterval(gauges);
      clearInterval(revocations);
      scrubber.stop();
      purger.stop();
      renewer.stop();
      heartbeat.stop();
      campaigner.stop();
      await balancer.stop();
      beacons.stop();
      roles.stop();
      ctx.map.stop();
    });
  }

  async #refreshGauges(): Promise<void> {
    try {
      const stats = await this.context.store.stats();
      const now = this.context.now();
      const drivers = [...this.roles.drivers()].filter((d) => d.core !== null && !d.stopped);
      this.#gauges = {
        storedBytes: stats.reduce((n, s) => n + s.bytes, 0),
        storedObjects: stats.reduce((n, s) => n + s.objects, 0),
        tombstones: stats.reduce((n, s) => n + s.tombstones, 0),
        primaries: drivers.length,
        leases: drivers.filter((d) => d.core!.leaseValid(now)).length,
        lag: drivers.map((d) => ({ partition: d.partition, lag: d.core!.lag().reduce((m, l) => Math.max(m, l.lag), 0) })),
      };
    } catch {
      // the store is closing
    }
  }

  async #refreshRevocations(): Promise<void> {
    try {
      const { state } = await this.context.metaClient.state('local');
      this.#revoked = new Set(Object.keys(state.revoked));
    } catch (err) {
      this.context.log.warn({ err: (err as Error).message }, 'cannot refresh the revocation list');
    }
  }

  /** Stops accepting, waits for requests in flight, stops every loop, closes the store. */
  drain(): Promise<void> {
    this.#stopping ??= (async () => {
      const { log } = this.context;
      if (this.#leave !== null) {
        log.info('draining: handing primaries over and leaving the in-sync sets');
        await this.#leave(this.context.now() + this.options.drainTimeoutMs).catch((err: Error) => log.error({ err }, 'drain: leaving failed'));
      }
      log.info({ inFlight: this.gate.inFlight }, 'draining: no new requests');
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      const idle = await this.gate.drain(this.options.drainTimeoutMs);
      if (!idle) log.warn({ inFlight: this.gate.inFlight }, 'drain timed out; closing anyway');
      this.server.closeAllConnections();
      await closed;
      for (const stop of this.#stops) await stop();
      log.info('node stopped');
    })();
    return this.#stopping;
  }
}

/** A purge pass every quarter of the retention, at most hourly, at least every second. */
function tombstonePurgeEvery(retentionMs: number): number {
  return Math.max(1000, Math.min(3_600_000, Math.floor(retentionMs / 4)));
}

async function openDatabase(options: NodeOptions): Promise<StoreDb> {
  if (options.memory) return new MemoryLevel<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' }) as unknown as StoreDb;
  const location = join(options.dir, 'data');
  await mkdir(location, { recursive: true });
  // Ciphertext does not compress. LevelDB mmaps every table it reads and keeps it mapped
  // while the table is cached, so the table pages a long read touched stay resident: few
  // small tables bound that (64 cached tables, LevelDB's minimum, of about 1 MiB each).
  return new ClassicLevel<Buffer, Buffer>(location, {
    keyEncoding: 'buffer', valueEncoding: 'buffer', compression: false,
    maxOpenFiles: 74, maxFileSize: 1024 * 1024, writeBufferSize: 1024 * 1024,
  }) as unknown as StoreDb;
}
