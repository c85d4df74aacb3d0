// The storage node (docs/data-plane.md).
export { StorageNode } from './storage-node.js';
export { startNode, NotJoinedError, type JoinParams } from './start.js';
export { joinThroughGateway, JoinError, type JoinOptions } from './join.js';
export { loadOrCreateIdentity, loadIdentity, saveIdentity, generateIdentity, type NodeIdentity } from './identity.js';
export { loadCredentials, saveCredentials, type NodeCredentials } from './credentials.js';
export { DEFAULTS, parseSize, parseListen, capacityWeight, type NodeOptions } from './config.js';
export { timingFromLease, DEFAULT_TIMING, type ReplicationTiming } from './replication/timing.js';
