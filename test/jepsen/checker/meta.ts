// The meta workload's checks, on samples taken while the nemesis and the membership
// changes ran, and on every member's state after heal:
// - election safety: no two members ever reported themselves leader of the same term;
// - one primary per partition and epoch: no two samples of any member's partition map
//   name different primaries for the same (partition, epoch);
// - convergence: after heal, every member's state at the same applied index is equal
//   to the leader's (a member that applied a different log would differ).

export interface StatusSample {
  readonly time: number;
  readonly member: string;
  readonly role: string;
  readonly term: number;
}

export interface MapSample {
  readonly time: number;
  readonly member: string;
  /** Raft's applied index of the member when it answered. */
  readonly applied: number;
  readonly partitions: readonly { readonly epoch: number; readonly primary: string | null }[];
}

export interface CheckOutcome {
  readonly valid: boolean | 'unknown';
  readonly detail: string;
}

const MAX_LISTED = 5;

function list(xs: readonly string[]): string {
  return xs.slice(0, MAX_LISTED).join('; ') + (xs.length > MAX_LISTED ? `; … (${xs.length} in all)` : '');
}

export function checkLeaders(samples: readonly StatusSample[]): CheckOutcome & { terms: number } {
  const leaders = new Map<number, Map<string, number>>();
  for (const s of samples) {
    if (s.role !== 'leader') continue;
    const byMember = leaders.get(s.term) ?? new Map<string, number>();
    if (!byMember.has(s.member)) byMember.set(s.member, s.time);
    leaders.set(s.term, byMember);
  }
  const bad = [...leaders.entries()].filter(([, m]) => m.size > 1)
    .map(([term, m]) => `term ${term}: ${[...m.entries()].map(([id, t]) => `${id} (at ${Math.round(t)} ms)`).join(' and ')}`);
  if (bad.length) return { valid: false, terms: leaders.size, detail: `two leaders in one term: ${list(bad)}` };
  if (samples.length === 0) return { valid: 'unknown', terms: 0, detail: 'no status was sampled' };
  return { valid: true, terms: leaders.size, detail: `${samples.length} status samples, ${leaders.size} terms with a leader, one leader each` };
}

export function checkPrimaries(samples: readonly MapSample[]): CheckOutcome & { epochs: number } {
  const seen = new Map<string, { primary: string | null; member: string; time: number }>();
  const bad: string[] = [];
  for (const s of samples) {
    s.partitions.forEach((p, i) => {
      const key = `${i}@${p.epoch}`;
      const prev = seen.get(key);
      if (prev === undefined) seen.set(key, { primary: p.primary, member: s.member, time: s.time });
      else if (prev.primary !== p.primary) {
        bad.push(`partition ${i} epoch ${p.epoch}: primary ${prev.primary} on ${prev.member} (at ${Math.round(prev.time)} ms), ${p.primary} on ${s.member} (at ${Math.round(s.time)} ms)`);
      }
    });
  }
  if (bad.length) return { valid: false, epochs: seen.size, detail: `two primaries for one partition and epoch: ${list(bad)}` };
  if (samples.length === 0) return { valid: 'unknown', epochs: 0, detail: 'no partition map was sampled' };
  return { valid: true, epochs: seen.size, detail: `${samples.length} map samples, ${seen.size} (partition, epoch) pairs, one primary each` };
}

/** A member's state at an applied index, as JSON text with sorted keys. */
export interface StateSample {
  readonly member: string;
  readonly applied: number;
  readonly state: string;
}

/** JSON with every object's keys sorted: equal values give equal text whatever the insertion order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/**
 * Every member's samples against the reference member's (the leader): at each applied
 * index both sampled, the states must be equal; every member must share at least one
 * index with the reference, or convergence is undecided.
 */
export function checkConvergence(reference: string, members: readonly string[], samples: readonly StateSample[]): CheckOutcome {
  const ref = new Map<number, string>();
  for (const s of samples) if (s.member === reference) ref.set(s.applied, s.state);
  const bad: string[] = [];
  const undecided: string[] = [];
  const matched: string[] = [];
  for (const m of members) {
    if (m === reference) continue;
    let compared = 0;
    for (const s of samples) {
      if (s.member !== m) continue;
      const theirs = ref.get(s.applied);
      if (theirs === undefined) continue;
      compared++;
      if (theirs !== s.state) {
        bad.push(`${m} differs from ${reference} at index ${s.applied}: ${firstDifference(theirs, s.state)}`);
        break;
      }
    }
    if (compared === 0) undecided.push(m);
    else matched.push(m);
  }
  if (bad.length) return { valid: false, detail: `members diverged: ${list(bad)}` };
  if (ref.size === 0) return { valid: 'unknown', detail: `no state of the leader ${reference} was read` };
  if (undecided.length) return { valid: 'unknown', detail: `no state of ${undecided.join(', ')} at an index the leader ${reference} was also read at` };
  return { valid: true, detail: `${matched.length + 1} members equal to the leader ${reference} (${members.join(', ')})` };
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 40);
  return `…${a.slice(from, i + 40)}… vs …${b.slice(from, i + 40)}…`;
}
