// Which replica a campaigning replica proposes as the new primary: the one holding the
// highest sequence among those that answered (itself first on a tie, then by id), so no
// acknowledged write is lost (an acknowledged write is on every in-sync replica) and as
// few unacknowledged ones as possible. Peers that did not answer leave the in-sync set
// with the old primary. A peer that still hears the primary, or knows a newer epoch,
// stops the campaign. Pure.

export type PeerStatus =
  | { readonly id: string; readonly answered: false }
  | { readonly id: string; readonly answered: true; readonly epoch: number; readonly lastSeq: number; readonly sinceBeaconMs: number };

export type CampaignDecision =
  | { readonly kind: 'abort'; readonly reason: string }
  | { readonly kind: 'propose'; readonly primary: string; readonly remove: string[] };

export interface CampaignInput {
  readonly self: string;
  readonly selfSeq: number;
  readonly epoch: number;
  readonly oldPrimary: string;
  /** Every other in-sync replica except the old primary. */
  readonly peers: readonly PeerStatus[];
  readonly leaseMs: number;
}

export function chooseCandidate(input: CampaignInput): CampaignDecision {
  const answered = input.peers.filter((p): p is Extract<PeerStatus, { answered: true }> => p.answered);
  const newer = answered.find((p) => p.epoch > input.epoch);
  if (newer !== undefined) return { kind: 'abort', reason: `${newer.id} knows epoch ${newer.epoch}` };
  const hearing = answered.find((p) => p.sinceBeaconMs < input.leaseMs);
  if (hearing !== undefined) return { kind: 'abort', reason: `${hearing.id} still hears the primary ${input.oldPrimary}` };
  const candidates = [{ id: input.self, lastSeq: input.selfSeq, self: true }, ...answered.map((p) => ({ id: p.id, lastSeq: p.lastSeq, self: false }))];
  candidates.sort((a, b) => b.lastSeq - a.lastSeq || (a.self ? -1 : b.self ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const best = candidates[0]!;
  const silent = input.peers.filter((p) => !p.answered).map((p) => p.id);
  return { kind: 'propose', primary: best.id, remove: [input.oldPrimary, ...silent] };
}
