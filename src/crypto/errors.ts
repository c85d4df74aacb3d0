// Typed errors of the crypto layer. Messages name what was wrong, never the secret,
// token or ciphertext involved, so they are safe to log and to return to clients.

/** Why a token, certificate or signed request was refused. */
export type CredentialErrorCode =
  | 'malformed'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'wrong-role'
  | 'clock-skew'
  | 'replay'
  /** A session the LiveStore does not know: logged out, expired, or never opened. */
  | 'session-ended';

export class CredentialError extends Error {
  readonly code: CredentialErrorCode;

  constructor(code: CredentialErrorCode, message: string) {
    super(message);
    this.name = 'CredentialError';
    this.code = code;
  }
}

/** Why an encrypted object could not be decrypted (or a key could not be unwrapped). */
export type EnvelopeErrorCode =
  | 'malformed-header'
  | 'unsupported-version'
  | 'unknown-kek'
  | 'unwrap-failed'
  | 'tampered'
  | 'truncated'
  | 'trailing-data';

export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;

  constructor(code: EnvelopeErrorCode, message: string) {
    super(message);
    this.name = 'EnvelopeError';
    this.code = code;
  }
}

/** A cluster secrets file that is missing, unsafe or invalid. */
export class SecretsFileError extends Error {
  readonly code: 'insecure-permissions' | 'invalid' | 'exists' | 'not-found';

  constructor(code: SecretsFileError['code'], message: string) {
    super(message);
    this.name = 'SecretsFileError';
    this.code = code;
  }
}
