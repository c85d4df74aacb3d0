/** A caller passed something the store cannot accept (a bug in the caller). */
export class LiveStoreInputError extends Error {
  readonly code = 'LIVE_STORE_BAD_INPUT';
  override readonly name = 'LiveStoreInputError';
}

/**
 * The shared store could not answer (Redis down, timed out, refusing writes).
 * Callers guarding security checks must fail closed: a gateway answers 503.
 */
export class LiveStoreUnavailableError extends Error {
  readonly code = 'LIVE_STORE_UNAVAILABLE';
  override readonly name = 'LiveStoreUnavailableError';
}

/** The store was used after close(). */
export class LiveStoreClosedError extends Error {
  readonly code = 'LIVE_STORE_CLOSED';
  override readonly name = 'LiveStoreClosedError';
  constructor() {
    super('LiveStore is closed');
  }
}
