// The WGL memo cache, with dominance for unknown operations. A configuration is the set
// of linearized `ok` operations (D), the set of linearized unknown operations (U) and
// the model state. If (D, U', s) was visited and U' ⊆ U, then (D, U, s) can do nothing
// that (D, U', s) cannot: the extra unknown operations in U return at +infinity, so
// leaving them unlinearized blocks nothing, and they never have to be linearized. With
// no unknown operations this is exactly Lowe's cache of (linearized set, state).

import type { Bitset } from './bitset.js';

export class ConfigCache {
  private readonly seen = new Map<string, Uint16Array[]>();

  /** Records the configuration; false if it, or one that dominates it, was seen before. */
  visit(definite: Bitset, unknown: Bitset, stateHash: string): boolean {
    const key = definite.key() + stateHash; // key() has a fixed length: no separator needed
    const known = this.seen.get(key);
    if (known === undefined) {
      this.seen.set(key, [unknown.snapshot()]);
      return true;
    }
    for (const u of known) if (unknown.includes(u)) return false;
    // Keep the list an antichain: drop the sets the new, smaller one dominates.
    const mine = unknown.snapshot();
    const kept = known.filter((u) => !subset(mine, u));
    kept.push(mine);
    this.seen.set(key, kept);
    return true;
  }
}

/** Is every bit of `a` set in `b`? (Same-length snapshots.) */
function subset(a: Uint16Array, b: Uint16Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] & ~b[i]) !== 0) return false;
  return true;
}
