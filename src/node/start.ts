// `opera node start`: identity (made on first start), credentials (from a join through the
// gateway on first start, from credentials.json afterwards), then the node itself.
import { mkdir } from 'node:fs/promises';
import type { NodeOptions } from './config.js';
import { loadCredentials, saveCredentials } from './credentials.js';
import { loadOrCreateIdentity } from './identity.js';
import { joinThroughGateway } from './join.js';
import { StorageNode } from './storage-node.js';

export interface JoinParams {
  readonly gateway?: string;
  readonly joinToken?: string;
  readonly zone?: string;
  /** Placement weight sent with the join. */
  readonly capacity: number;
  /** A node id to use on first start (default n-XXXXXXXX). */
  readonly id?: string;
}

export class NotJoinedError extends Error {
  constructor(dir: string) {
    super(`the node in ${dir} has not joined a cluster yet: give --gateway URL and --join-token TOKEN`);
    this.name = 'NotJoinedError';
  }
}

export async function startNode(options: NodeOptions, join: JoinParams): Promise<StorageNode> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const { identity, created } = await loadOrCreateIdentity(options.dir, join.id);
  if (created) options.log.info({ nodeId: identity.nodeId }, 'new node identity');
  let credentials = await loadCredentials(options.dir);
  if (credentials === null) {
    if (join.gateway === undefined || join.joinToken === undefined) throw new NotJoinedError(options.dir);
    const url = options.advertiseUrl ?? `http://${options.host}:${options.port}`;
    credentials = await joinThroughGateway({
      gateway: join.gateway, joinToken: join.joinToken, identity, url, capacity: join.capacity, ...(join.zone !== undefined ? { zone: join.zone } : {}),
    });
    await saveCredentials(options.dir, credentials);
    options.log.info({ nodeId: identity.nodeId, clusterId: credentials.clusterId }, 'joined the cluster');
  } else if (join.joinToken !== undefined) {
    options.log.info('credentials.json exists: the join token is not needed and was not used');
  }
  return StorageNode.start(options, identity, credentials);
}
