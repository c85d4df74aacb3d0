// The client library in direct mode, as the CLI builds it: a session from the admin token,
// data keys wrapped by the gateway (requests batched), values encrypted here and sent to
// each partition's primary.
import { openGatewayAccess } from '../src/cli/access.js';
import { BatchingKeyService } from '../src/client/batching-keys.js';
import { ObjectClient } from '../src/client/objects.js';
import { RemoteKeyService } from '../src/client/remote-keys.js';
import type { BenchContext } from './context.js';
import { settled, type OperaCluster } from './opera-cluster.js';

export async function directClient(cluster: OperaCluster): Promise<ObjectClient> {
  const access = await openGatewayAccess({ gateway: cluster.gateway, token: cluster.token });
  return new ObjectClient(access, { keys: new BatchingKeyService(new RemoteKeyService(access)) });
}

/** The processes whose CPU time an operation of the data plane costs. */
export function dataPlanePids(cluster: OperaCluster): number[] {
  return cluster.procs.map((p) => p.pid);
}

/** The cluster once settled, so that each benchmark starts from every partition back to R. */
export async function settledCluster(ctx: BenchContext): Promise<OperaCluster> {
  const cluster = await ctx.opera();
  const t0 = Date.now();
  await settled(cluster, 120_000);
  const waited = (Date.now() - t0) / 1000;
  if (waited > 1) ctx.log(`waited ${waited.toFixed(1)} s for every partition to be back to R`);
  return cluster;
}
