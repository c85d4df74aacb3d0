// Errors a caller of the Raft core can act on (retry elsewhere, wait, give up).
import type { MemberId } from './types.js';

export type ProposalErrorCode = 'not-leader' | 'transferring' | 'config-pending' | 'invalid-config-change';

export class ProposalError extends Error {
  readonly code: ProposalErrorCode;
  /** The leader this member knows of, for redirects. */
  readonly leader: MemberId | null;
  constructor(code: ProposalErrorCode, message: string, leader: MemberId | null) {
    super(message);
    this.name = 'ProposalError';
    this.code = code;
    this.leader = leader;
  }
}
