// Graceful handover of one partition's primary role to an in-sync replica (balance and
// drain both use it; docs/data-plane.md, "Handover"):
//
// 1. the core refuses new client writes (503 handing-over); reads go on under the lease;
// 2. wait until no write is streaming and every in-sync replica holds every write
//    (handover-core.ts); if that does not happen in time, cancel: nothing was given up;
// 3. give the read lease up for good and stop renewing it (no beacons for this epoch);
// 4. ask meta, with the epoch we lead, to appoint the successor with `leaseReleased`
//    (and, for a drain, to drop us). Meta records the release in the new epoch, so the
//    successor and its replicas need not wait for the promises made to us.
//
// From step 3 on there is no way back at this epoch: if meta never appoints anyone, our
// replicas stop hearing beacons and campaign once their promises are over.
import type { NodeContext } from '../context.js';
import { sleep } from '../meta-link.js';
import { handoverReadiness } from './handover-core.js';
import type { PrimaryDriver } from './primary.js';

export type HandoverOutcome = 'handed-over' | 'cancelled' | 'superseded' | 'unconfirmed';

export interface HandoverOptions {
  /** Also leave the in-sync set (a draining node). */
  readonly leave: boolean;
  /** How long to wait for writes to settle before cancelling. */
  readonly settleMs: number;
  /** Successors to try, in order, if meta refuses the first one. */
  readonly fallbacks?: readonly string[];
}

const POLL_MS = 10;
const SUBMIT_ATTEMPTS = 5;

export async function handOver(ctx: NodeContext, driver: PrimaryDriver, to: string, opts: HandoverOptions): Promise<HandoverOutcome> {
  const { log, control, map, self } = ctx;
  const core = driver.core;
  if (core === null || driver.stopped || core.phase !== 'active') return 'cancelled';
  const { partition, epoch } = driver;
  core.beginHandover(to);
  log.info({ partition, epoch, to, leave: opts.leave }, 'handing the primary role over');
  const deadline = ctx.now() + opts.settleMs;
  for (let polls = 0; ; polls++) {
    if (driver.stopped) return 'superseded';
    const readiness = handoverReadiness(core, to, driver.writesInFlight);
    if (readiness.kind === 'ready') break;
    if (readiness.kind === 'abort' || ctx.now() >= deadline || polls > opts.settleMs / POLL_MS + 100) {
      core.cancelHandover();
      log.info({ partition, epoch, to, why: readiness.kind === 'abort' ? readiness.reason : `timed out: ${readiness.reason}` }, 'handover cancelled');
      return 'cancelled';
    }
    await sleep(POLL_MS);
  }
  core.releaseLease(to);
  const candidates = [to, ...(opts.fallbacks ?? []).filter((id) => id !== to)];
  for (let attempt = 1; attempt <= SUBMIT_ATTEMPTS; attempt++) {
    const successor = candidates[Math.min(candidates.length - 1, attempt - 1)]!;
    try {
      const result = await control.run({
        type: 'partition-reconfigure', partition, expectedEpoch: epoch, primary: successor, leaseReleased: true,
        ...(opts.leave ? { remove: [self] } : {}),
      });
      await map.refresh().catch(() => undefined);
      if (result.ok) {
        log.info({ partition, epoch: epoch + 1, primary: successor, left: opts.leave }, 'primary handed over');
        ctx.metrics.handovers.inc({ reason: opts.leave ? 'drain' : 'balance' });
        return 'handed-over';
      }
      if (result.code === 'stale-epoch') return 'superseded';
      log.warn({ partition, successor, code: result.code, message: result.message }, 'meta refused the handover');
    } catch (err) {
      // The outcome is unknown: the map says whether it happened.
      log.warn({ partition, err: (err as Error).message }, 'handover request failed');
      await map.refresh().catch(() => undefined);
      if ((map.partition(partition)?.epoch ?? epoch) > epoch) return 'superseded';
    }
    await sleep(Math.min(1000, 100 * attempt));
  }
  log.warn({ partition, epoch }, 'handover not confirmed; the replicas will campaign once their promises are over');
  return 'unconfirmed';
}
