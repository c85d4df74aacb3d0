// Membership: voters and learners, quorum arithmetic, and one-server-at-a-time changes.
import { invariant } from './invariant.js';
import type { Config, ConfigChange, MemberId } from './types.js';

export const emptyConfig: Config = { voters: [], learners: [] };

export function isVoter(config: Config, id: MemberId): boolean {
  return config.voters.includes(id);
}

export function isMember(config: Config, id: MemberId): boolean {
  return config.voters.includes(id) || config.learners.includes(id);
}

export function members(config: Config): MemberId[] {
  return [...config.voters, ...config.learners];
}

export function quorum(config: Config): number {
  return Math.floor(config.voters.length / 2) + 1;
}

/** The highest index that a majority of voters hold, given each voter's match index. */
export function quorumIndex(config: Config, matchOf: (id: MemberId) => number): number {
  if (config.voters.length === 0) return 0;
  const matches = config.voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorum(config) - 1]!;
}

/** Why a change cannot be made to `config`, or null when it can. */
export function changeError(config: Config, change: ConfigChange): string | null {
  switch (change.op) {
    case 'add-learner':
      if (!change.id) return 'member id is empty';
      return isMember(config, change.id) ? `${change.id} is already a member` : null;
    case 'promote':
      return config.learners.includes(change.id) ? null : `${change.id} is not a learner`;
    case 'remove':
      if (!isMember(config, change.id)) return `${change.id} is not a member`;
      if (isVoter(config, change.id) && config.voters.length === 1) return 'cannot remove the last voter';
      return null;
  }
}

export function applyChange(config: Config, change: ConfigChange): Config {
  const err = changeError(config, change);
  invariant(err === null, () => `invalid config change: ${err}`);
  switch (change.op) {
    case 'add-learner':
      return { voters: [...config.voters], learners: [...config.learners, change.id] };
    case 'promote':
      return { voters: [...config.voters, change.id], learners: config.learners.filter((m) => m !== change.id) };
    case 'remove':
      return {
        voters: config.voters.filter((m) => m !== change.id),
        learners: config.learners.filter((m) => m !== change.id),
      };
  }
}

/** A config entry carries the change and the resulting configuration, so replay needs no history. */
export interface ConfigEntryData {
  readonly change: ConfigChange;
  readonly config: Config;
}

export function encodeConfigEntry(data: ConfigEntryData): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(data));
}

export function decodeConfigEntry(bytes: Uint8Array): ConfigEntryData {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as ConfigEntryData;
  invariant(
    parsed && Array.isArray(parsed.config?.voters) && Array.isArray(parsed.config?.learners) && parsed.change,
    'malformed config entry',
  );
  return parsed;
}
