// Verdicts of the durability workload and of the storage nemesis's own checks.
import type { StorageCheck } from './nemesis/nemesis.js';
import type { Verdict } from './verdicts.js';
import type { DurabilityResult } from './workloads/durability.js';

function some(label: string, xs: readonly string[]): string {
  return `${label} ${xs.length}: ${xs.slice(0, 10).join(', ')}${xs.length > 10 ? ', …' : ''}`;
}

export function durabilityVerdict(r: DurabilityResult): Verdict {
  const parts = [`${r.acknowledged} acknowledged, ${r.attempted} attempted, ${r.unknownPresent} unknown writes present`];
  if (r.lost.length) parts.push(some('lost', r.lost));
  if (r.corrupted.length) parts.push(some('read back with other bytes', r.corrupted));
  if (r.failedButPresent.length) parts.push(some('failed but present', r.failedButPresent));
  if (r.unreadable.length) parts.push(some('never readable', r.unreadable));
  return { check: 'durability (every acknowledged record, byte for byte)', valid: r.valid, detail: parts.join('; ') };
}

/** Every damaged process refused or repaired as it must; damage that found nothing to hit is only reported. */
export function storageVerdict(checks: readonly StorageCheck[]): Verdict {
  const applied = checks.filter((c) => c.ok !== null);
  const failed = applied.filter((c) => c.ok === false);
  const detail = checks.length === 0 ? 'no storage fault applied'
    : checks.map((c) => `${c.fault}: ${c.ok === null ? 'not applied' : c.ok ? 'ok' : 'FAILED'} (${c.detail})`).join('; ');
  return { check: 'storage faults detected, refused or repaired', valid: failed.length === 0, detail };
}
