// The key-management boundary: whoever holds the KEKs (the gateway) wraps and unwraps data
// keys for authorized callers, in batches so a bulk import or a scan costs one round trip
// per batch. Clients never hold a KEK. This file has the interface and the local,
// KEK-holding implementation; an HTTP client of the gateway's key endpoints implements the
// same interface.
import { EnvelopeError } from './errors.js';
import type { EncryptionHeader, WrappedKey } from './envelope-format.js';
import { assertObjectKey, type DataKey, unwrapDataKey, wrapDataKey } from './key-wrap.js';
import { currentKek, kekLabel, type Kek } from './secrets.js';

/** The most requests one wrap or unwrap call takes (bounds request and response sizes). */
export const MAX_KEY_BATCH = 1000;

export interface WrapRequest {
  readonly objectKey: string;
  readonly dataKey: DataKey;
}

export interface UnwrapRequest {
  readonly objectKey: string;
  /** The object's encryption header, or just its wrap fields. */
  readonly header: WrappedKey;
}

/** One result per request, in order: a bad header fails its own item, not the batch. */
export type UnwrapResult =
  | { readonly ok: true; readonly dataKey: DataKey }
  | { readonly ok: false; readonly error: EnvelopeError };

export interface KeyService {
  /** Wraps each data key with the current KEK, bound to its object key. */
  wrap(requests: readonly WrapRequest[]): Promise<WrappedKey[]>;
  /** Unwraps each data key with the KEK its header names. */
  unwrap(requests: readonly UnwrapRequest[]): Promise<UnwrapResult[]>;
}

export class LocalKeyService implements KeyService {
  readonly #byLabel = new Map<string, Kek>();
  readonly #current: Kek;

  /** `keks`: every version still needed for unwrapping; the highest version wraps. */
  constructor(keks: readonly Kek[]) {
    for (const kek of keks) {
      const label = kekLabel(kek);
      if (this.#byLabel.has(label)) throw new Error(`duplicate KEK ${label}`);
      this.#byLabel.set(label, kek);
    }
    this.#current = currentKek(keks);
  }

  /** Name and version of the KEK new wraps use (no key material). */
  get currentKek(): { readonly name: string; readonly version: number } {
    return { name: this.#current.name, version: this.#current.version };
  }

  async wrap(requests: readonly WrapRequest[]): Promise<WrappedKey[]> {
    assertBatch(requests.length);
    for (const r of requests) assertObjectKey(r.objectKey);
    return requests.map((r) => wrapDataKey(this.#current, r.objectKey, r.dataKey));
  }

  async unwrap(requests: readonly UnwrapRequest[]): Promise<UnwrapResult[]> {
    assertBatch(requests.length);
    for (const r of requests) assertObjectKey(r.objectKey);
    return requests.map((r): UnwrapResult => {
      const kek = this.#byLabel.get(kekLabel({ name: r.header.kekName, version: r.header.kekVersion }));
      if (kek === undefined) {
        return { ok: false, error: new EnvelopeError('unknown-kek', `KEK ${r.header.kekName}-${r.header.kekVersion} is not loaded`) };
      }
      try {
        return { ok: true, dataKey: unwrapDataKey(kek, r.objectKey, r.header) };
      } catch (err) {
        if (err instanceof EnvelopeError) return { ok: false, error: err };
        throw err;
      }
    });
  }
}

/** Unwraps one header through `service`, throwing its EnvelopeError on failure. */
export async function unwrapOne(service: KeyService, objectKey: string, header: WrappedKey): Promise<DataKey> {
  const results = await service.unwrap([{ objectKey, header }]);
  const [result] = results;
  if (result === undefined || results.length !== 1) throw new Error('key service returned a wrong number of results');
  if (!result.ok) throw result.error;
  return result.dataKey;
}

/**
 * The header re-wrapped under the service's current KEK (for retiring an old KEK): only the
 * wrap fields change, so the object's frames stay valid and need not be rewritten.
 */
export async function rewrapHeader(service: KeyService, objectKey: string, header: EncryptionHeader): Promise<EncryptionHeader> {
  const dataKey = await unwrapOne(service, objectKey, header);
  try {
    const [wrapped] = await service.wrap([{ objectKey, dataKey }]);
    if (wrapped === undefined) throw new Error('key service returned no wrapped key');
    return { ...wrapped, streamHeader: header.streamHeader };
  } finally {
    dataKey.wipe();
  }
}

function assertBatch(size: number): void {
  if (size > MAX_KEY_BATCH) throw new Error(`key batch of ${size} exceeds the limit of ${MAX_KEY_BATCH}`);
}
