// The failure detector of one node, as one sentinel sees it: a pure function from
// (state, event) to (state, change). No I/O and no clock of its own: every event
// carries its time, and time never runs backwards inside the detector (a late event
// counts as happening at the latest time seen). The shell feeds it probe results,
// heartbeats and ticks, and acts on the changes it hands back.
//
// up --(suspectAfterMisses consecutive misses)--> suspect
// suspect --(unreachable for downAfterMs since the first miss of the streak)--> down
// suspect|down --(recoverAfterSuccesses consecutive successes)--> up
// Every change also waits until minStateMs have passed since the previous one, so a
// flapping node cannot make the sentinel flap with it.

import type { NodeHealth } from '../gateway/live-store/index.js';

export type { NodeHealth } from '../gateway/live-store/index.js';

export interface DetectorSettings {
  /** Consecutive missed probes after which an up node is suspect. */
  readonly suspectAfterMisses: number;
  /** How long a suspect node must stay unreachable (since its first miss) to be down. */
  readonly downAfterMs: number;
  /** Consecutive successes after which a suspect or down node is up again. */
  readonly recoverAfterSuccesses: number;
  /** The least time between two state changes of one node. */
  readonly minStateMs: number;
}

export type MissReason = 'timeout' | 'refused' | 'error' | 'status';

export type DetectorEvent =
  | { readonly type: 'success'; readonly atMs: number }
  | { readonly type: 'miss'; readonly atMs: number; readonly reason: MissReason }
  /** Time passed with no new evidence (a probe may still be running). */
  | { readonly type: 'tick'; readonly atMs: number };

export interface DetectorState {
  readonly health: NodeHealth;
  /** When `health` last changed (or the detector was created). */
  readonly since: number;
  readonly misses: number;
  readonly successes: number;
  /** The first miss of the current run of misses; null after any success. */
  readonly unreachableSince: number | null;
  /** The latest time seen. */
  readonly clock: number;
}

export interface HealthChange {
  readonly from: NodeHealth;
  readonly to: NodeHealth;
  readonly atMs: number;
  /** Why, in words, for the log. */
  readonly reason: string;
}

export interface DetectorStep {
  readonly state: DetectorState;
  readonly change: HealthChange | null;
}

/** Throws unless the settings make sense; returns them. */
export function checkDetectorSettings(s: DetectorSettings): DetectorSettings {
  const whole = (name: string, v: number, min: number): void => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer of at least ${min}, got ${v}`);
  };
  whole('suspectAfterMisses', s.suspectAfterMisses, 1);
  whole('recoverAfterSuccesses', s.recoverAfterSuccesses, 1);
  whole('downAfterMs', s.downAfterMs, 0);
  whole('minStateMs', s.minStateMs, 0);
  return s;
}

/**
 * A fresh detector. `initial` is normally what meta says of the node, so that a
 * sentinel that (re)starts does not have to rediscover a node that is already down.
 */
export function newDetector(initial: NodeHealth, nowMs: number): DetectorState {
  return { health: initial, since: nowMs, misses: 0, successes: 0, unreachableSince: null, clock: nowMs };
}

export function step(state: DetectorState, event: DetectorEvent, settings: DetectorSettings): DetectorStep {
  const now = Math.max(state.clock, event.atMs);
  let next: DetectorState = { ...state, clock: now };
  if (event.type === 'success') {
    next = { ...next, successes: state.successes + 1, misses: 0, unreachableSince: null };
  } else if (event.type === 'miss') {
    next = { ...next, misses: state.misses + 1, successes: 0, unreachableSince: state.unreachableSince ?? now };
  }
  const target = wanted(next, settings);
  if (target === null || now - next.since < settings.minStateMs) return { state: next, change: null };
  return {
    state: { ...next, health: target.to, since: now },
    change: { from: next.health, to: target.to, atMs: now, reason: target.reason },
  };
}

/** The state the evidence calls for, ignoring the minimum time between changes. */
function wanted(s: DetectorState, settings: DetectorSettings): { to: NodeHealth; reason: string } | null {
  switch (s.health) {
    case 'up':
      if (s.misses >= settings.suspectAfterMisses) return { to: 'suspect', reason: `${s.misses} probes missed in a row` };
      return null;
    case 'suspect':
      if (s.successes >= settings.recoverAfterSuccesses) return { to: 'up', reason: `${s.successes} answers in a row` };
      if (s.unreachableSince !== null && s.clock - s.unreachableSince >= settings.downAfterMs) {
        return { to: 'down', reason: `unreachable for ${s.clock - s.unreachableSince} ms` };
      }
      return null;
    case 'down':
      if (s.successes >= settings.recoverAfterSuccesses) return { to: 'up', reason: `${s.successes} answers in a row` };
      return null;
  }
}
