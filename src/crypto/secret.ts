// A holder for key material that refuses to be printed: String(), JSON.stringify,
// util.inspect and console.log all show a placeholder, so a secret that reaches a log
// line or an error by accident leaks nothing.
import { inspect } from 'node:util';
import { wipe } from './sodium.js';

const REDACTED = '[redacted]';

export class Secret {
  readonly #bytes: Buffer;
  readonly #label: string;

  /** Copies `bytes` (so the caller may wipe its own copy); `label` says what it is, never its value. */
  constructor(bytes: Uint8Array, label = 'secret') {
    if (bytes.byteLength === 0) throw new Error(`${label} must not be empty`);
    this.#bytes = Buffer.alloc(bytes.byteLength);
    this.#bytes.set(bytes);
    this.#label = label;
  }

  get length(): number {
    return this.#bytes.byteLength;
  }

  /** The raw bytes, for the crypto calls that need them. Never log or serialize the result. */
  expose(): Buffer {
    return this.#bytes;
  }

  /** Zeroes the bytes; the Secret is useless afterwards. */
  wipe(): void {
    wipe(this.#bytes);
  }

  toString(): string {
    return `${this.#label}${REDACTED}`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return `Secret(${this.#label})${REDACTED}`;
  }
}
