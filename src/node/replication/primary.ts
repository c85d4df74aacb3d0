// The shell around PrimaryCore for one partition at one epoch: raises the store's epoch,
// fences the other in-sync replicas, adopts ops a replica holds beyond ours, runs one
// sender per replica (ops from the store's log, values streamed), settles waiting client
// writes, and asks meta to remove replicas the core judged failed. Beacons are sent for
// all partitions at once by beacons.ts.
import type { PartitionRecord } from '../../meta/types.js';
import type { NodeContext } from '../context.js';
import { sleep } from '../meta-link.js';
import { Notifier } from '../notifier.js';
import { StaleEpochError } from '../store/index.js';
import { encodeOps, OpsReader } from '../wire/ops-codec.js';
import { CommitWaiters, WriteUnconfirmedError } from './commit-waiters.js';
import { applyBatch, buildBatch } from './ops.js';
import { PeerError } from './peers.js';
import { PrimaryCore, type AdoptionRequest } from './primary-core.js';

export class PrimaryDriver {
  readonly partition: number;
  readonly epoch: number;
  #core: PrimaryCore | null = null;
  readonly #ctx: NodeContext;
  readonly #record: PartitionRecord;
  readonly #minInsync: number;
  readonly #waiters: CommitWaiters;
  readonly #notBefore: number;
  readonly #abort = new AbortController();
  readonly #wake = new Notifier();
  #timer: NodeJS.Timeout | null = null;
  #removing = false;
  #nextRemovalAt = 0;
  #stopped = false;
  #loggedActive = false;
  #activeSince: number | null = null;
  /** Client writes between their admission and their local commit (a handover waits for them). */
  #writes = 0;
  /** The batch in flight to each replica, aborted when the core gives up on it. */
  readonly #inflight = new Map<string, AbortController>();

  constructor(ctx: NodeContext, partition: number, record: PartitionRecord, minInsync: number, waiters: CommitWaiters, notBefore: number) {
    this.#ctx = ctx;
    this.partition = partition;
    this.epoch = record.epoch;
    this.#record = record;
    this.#minInsync = minInsync;
    this.#waiters = waiters;
    this.#notBefore = notBefore;
  }

  /** Null until the store's epoch is raised (a few ms after start). */
  get core(): PrimaryCore | null {
    return this.#core;
  }

  get waiters(): CommitWaiters {
    return this.#waiters;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get writesInFlight(): number {
    return this.#writes;
  }

  /** How long the core has been active (0 while it is not). */
  activeFor(now: number): number {
    return this.#activeSince === null || this.#core?.phase !== 'active' ? 0 : now - this.#activeSince;
  }

  /**
   * Runs one admitted client write up to its local commit, counted so that a handover
   * knows when none is left. `write` resolves with the committed sequence.
   */
  async trackWrite<T>(write: () => Promise<T>, seqOf: (result: T) => number): Promise<T> {
    this.#writes++;
    try {
      const result = await write();
      this.onLocalCommit(seqOf(result));
      return result;
    } finally {
      this.#writes--;
    }
  }

  async start(): Promise<void> {
    const { store, log, timing } = this.#ctx;
    let state;
    for (;;) {
      if (this.#stopped) return;
      try {
        state = await store.setPartitionState(this.partition, { epoch: this.epoch });
        break;
      } catch (err) {
        if (err instanceof StaleEpochError) return this.#stale('the store already holds a newer epoch');
        log.warn({ partition: this.partition, err: (err as Error).message }, 'cannot take over the partition yet; retrying');
        await sleep(500, this.#abort.signal);
      }
    }
    if (this.#stopped) return; // the map moved on while the store was raising its epoch
    const members = this.#record.replicas.filter((id) => id !== this.#ctx.self);
    this.#core = new PrimaryCore({
      partition: this.partition, epoch: this.epoch, self: this.#ctx.self, members, minInsync: this.#minInsync,
      localSeq: state.lastSeq, now: this.#ctx.now(), timing, notBefore: this.#notBefore,
    });
    log.info({ partition: this.partition, epoch: this.epoch, members, lastSeq: state.lastSeq }, 'taking over as primary');
    this.#timer = setInterval(() => this.#tick(), Math.max(10, Math.min(100, timing.beaconMs / 2)));
    for (const id of members) {
      void this.#fence(id);
      void this.#sender(id);
    }
    this.#tick();
  }

  /** This driver's epoch is over (a new map, or the node stops). Waiters are left to the caller. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#core?.markStale();
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#abort.abort();
    this.#wake.notify();
  }

  /** Our store committed a client write at `seq`. */
  onLocalCommit(seq: number): void {
    const core = this.#core;
    if (core === null || this.#stopped) return;
    if (seq > core.localSeq) core.onLocalCommit(seq, this.#ctx.now());
    this.#wake.notify();
  }

  onBeaconAck(id: string, sentAt: number): void {
    this.#core?.onBeaconAck(id, sentAt, this.#ctx.now());
  }

  onMetaConfirm(sentAt: number): void {
    this.#core?.onMetaConfirm(sentAt);
  }

  /** A replica answered with a newer epoch than ours: we are no longer the primary. */
  onNewerEpoch(epoch: number): void {
    if (epoch > this.epoch) this.#stale(`a replica knows epoch ${epoch}`);
  }

  #stale(why: string): void {
    if (this.#stopped) return;
    this.#ctx.log.info({ partition: this.partition, epoch: this.epoch, why }, 'primary epoch is over');
    this.stop();
    this.#waiters.rejectAll(new WriteUnconfirmedError('stale-epoch', `partition ${this.partition}: the primary's epoch ${this.epoch} ended before every replica confirmed the write`));
    void this.#ctx.map.refresh().catch(() => undefined);
  }

  #tick(): void {
    const core = this.#core;
    if (core === null || this.#stopped) return;
    const now = this.#ctx.now();
    const wasActive = core.phase === 'active';
    core.tick(now);
    for (const f of core.failedMembers()) this.#inflight.get(f.id)?.abort();
    if (core.failedMembers().length > 0 && !this.#removing && now >= this.#nextRemovalAt) void this.#requestRemoval();
    const adoption = core.adoptionNeeded();
    if (adoption !== null) void this.#adopt(adoption);
    if (core.belowMinInsync()) {
      // Writes waiting now are refused (they would live on too few disks); what the
      // remaining set holds is still committed for readers.
      this.#waiters.rejectAll(new WriteUnconfirmedError('not-enough-replicas', `partition ${this.partition} has fewer in-sync replicas than ${core.minInsync}; the write may be on one disk only`));
    }
    this.#waiters.settle(core.committedSeq());
    if (!wasActive && (core.phase as string) === 'active' && !this.#loggedActive) {
      this.#loggedActive = true;
      this.#activeSince = now;
      this.#ctx.log.info({ partition: this.partition, epoch: this.epoch, lastSeq: core.localSeq }, 'primary active');
      this.#wake.notify();
    }
  }

  async #requestRemoval(): Promise<void> {
    const core = this.#core!;
    const failed = core.failedMembers();
    this.#removing = true;
    try {
      for (const f of failed) this.#ctx.metrics.removals.inc({ reason: f.reason.split(':')[0]! });
      this.#ctx.log.warn({ partition: this.partition, epoch: this.epoch, failed }, 'removing unresponsive replicas from the in-sync set');
      const result = await this.#ctx.control.run({ type: 'partition-reconfigure', partition: this.partition, expectedEpoch: this.epoch, remove: failed.map((f) => f.id) });
      if (!result.ok) this.#ctx.log.warn({ partition: this.partition, result }, 'meta refused the removal');
      await this.#ctx.map.refresh();
    } catch (err) {
      this.#ctx.log.warn({ partition: this.partition, err: (err as Error).message }, 'removal request failed; retrying');
    } finally {
      this.#removing = false;
      this.#nextRemovalAt = this.#ctx.now() + this.#ctx.timing.beaconMs;
    }
  }

  async #fence(id: string): Promise<void> {
    const { peers, map, timing } = this.#ctx;
    while (!this.#stopped) {
      const core = this.#core!;
      if (core.sendFrom(id) !== null || core.failedMembers().some((f) => f.id === id)) return;
      const url = map.nodeUrl(id);
      try {
        if (url === undefined) throw new Error(`no address for ${id}`);
        const reply = await peers.fence(url, this.partition, this.epoch, timing.timeoutMs);
        core.onFenced(id, reply, this.#ctx.now());
        this.#tick();
        this.#wake.notify();
        return;
      } catch (err) {
        if (err instanceof PeerError && err.code === 'stale-epoch') return this.onNewerEpoch(Number(err.details['epoch'] ?? this.epoch + 1));
        if (err instanceof PeerError && err.code === 'lineage-mismatch') {
          core.fail(id, 'needs a full copy (copied from another primary)');
          this.#tick();
          return;
        }
        await sleep(Math.min(200, timing.beaconMs), this.#abort.signal);
      }
    }
  }

  async #adopt(req: AdoptionRequest): Promise<void> {
    const core = this.#core!;
    const { peers, map, store, applyLocks, log } = this.#ctx;
    try {
      let seq = req.afterSeq;
      while (seq < req.upToSeq && !this.#stopped) {
        const url = map.nodeUrl(req.from);
        if (url === undefined) throw new Error(`no address for ${req.from}`);
        const { body } = await peers.stream(url, `/v1/partitions/${this.partition}/ops?after=${seq}&epoch=${this.epoch}`, this.#abort.signal);
        const next = await applyLocks.run(this.partition, () => applyBatch(store, this.partition, new OpsReader(body), (h) => {
          if (h.epoch !== this.epoch) throw new Error(`${req.from} sent ops of epoch ${h.epoch}, not ${this.epoch}`);
        }));
        if (next <= seq) throw new Error(`no progress past sequence ${seq}`);
        seq = next;
      }
      if (this.#stopped) return;
      log.info({ partition: this.partition, from: req.from, upTo: seq }, 'adopted ops a replica held beyond ours');
      core.onAdopted(seq);
    } catch (err) {
      if (this.#stopped) return;
      log.warn({ partition: this.partition, from: req.from, err: (err as Error).message }, 'adoption failed');
      // Too far behind to adopt from its log (this node lost its data, say): the replica
      // with more history must lead, and this node copies the partition afresh.
      if (err instanceof PeerError && err.code === 'full-copy-needed') return this.#handOver(req.from);
      core.onAdoptFailed(req.from, (err as Error).message);
    }
    this.#tick();
  }

  async #handOver(to: string): Promise<void> {
    const { control, log, map, self } = this.#ctx;
    log.warn({ partition: this.partition, epoch: this.epoch, to }, 'handing the partition over to a replica with more history');
    this.#stale(`handing over to ${to}`);
    try {
      const result = await control.run({ type: 'partition-reconfigure', partition: this.partition, expectedEpoch: this.epoch, primary: to, remove: [self] });
      if (!result.ok) log.warn({ partition: this.partition, result }, 'meta refused the handover');
    } catch (err) {
      log.warn({ partition: this.partition, err: (err as Error).message }, 'handover request failed');
    }
    await map.refresh().catch(() => undefined);
  }

  async #sender(id: string): Promise<void> {
    const { peers, map, store, timing, log } = this.#ctx;
    let failures = 0;
    while (!this.#stopped) {
      const core = this.#core!;
      const from = core.sendFrom(id);
      if (from === null || !core.replicating() || from >= core.localSeq) {
        if (core.failedMembers().some((f) => f.id === id)) return;
        await this.#wake.wait(timing.beaconMs, this.#abort.signal);
        continue;
      }
      const url = map.nodeUrl(id);
      const batch = await buildBatch(store, this.partition, this.epoch, from).catch((err: Error) => {
        log.warn({ partition: this.partition, err: err.message }, 'cannot read the op log');
        return null;
      });
      if (batch === null || batch.kind === 'empty' || url === undefined) {
        await sleep(200, this.#abort.signal);
        continue;
      }
      if (batch.kind === 'full-copy-needed') {
        core.fail(id, `needs a full copy (${batch.reason})`);
        this.#tick();
        return;
      }
      const abortThis = new AbortController();
      const onAbort = (): void => abortThis.abort();
      this.#abort.signal.addEventListener('abort', onAbort, { once: true });
      this.#inflight.set(id, abortThis);
      try {
        const body = this.#withProgress(id, encodeOps(batch.header, batch.ops));
        const lastSeq = await peers.replicate(url, this.partition, body, abortThis.signal);
        core.onAck(id, lastSeq, this.#ctx.now());
        failures = 0;
        this.#tick();
      } catch (err) {
        if (this.#stopped) return;
        if (err instanceof PeerError && err.code === 'sequence-gap' && typeof err.details['lastSeq'] === 'number') {
          core.onAck(id, err.details['lastSeq'], this.#ctx.now());
          this.#tick();
        } else if (err instanceof PeerError && err.code === 'stale-epoch') {
          this.onNewerEpoch(Number(err.details['epoch'] ?? this.epoch + 1));
          return;
        } else if (err instanceof PeerError && (err.code === 'lineage-mismatch' || err.code === 'sequence')) {
          core.fail(id, `needs a full copy (${err.message})`);
          this.#tick();
          return;
        } else {
          failures++;
          if (failures === 1 || failures % 50 === 0) log.warn({ partition: this.partition, replica: id, err: (err as Error).message }, 'replication batch failed; retrying');
          await sleep(Math.min(50 * failures, timing.beaconMs), this.#abort.signal);
        }
      } finally {
        this.#inflight.delete(id);
        this.#abort.signal.removeEventListener('abort', onAbort);
        await batch.release();
      }
    }
  }

  async *#withProgress(id: string, body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const piece of body) {
      this.#core?.onProgress(id, this.#ctx.now());
      yield piece;
    }
  }
}
