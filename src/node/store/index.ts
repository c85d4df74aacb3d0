// The node storage engine: see docs/node-storage.md.
export { NodeStore } from './node-store.js';
export type { StatePatch } from './maintenance.js';
export type { ScrubResult } from './scrub.js';
export * from './errors.js';
export type * from './types.js';
