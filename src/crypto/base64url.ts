// Strict unpadded base64url (RFC 4648 §5). Node's decoder silently skips invalid
// characters and accepts non-canonical trailing bits; for signed strings we want exactly
// one encoding per byte string, so anything else is refused.

const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** The bytes, or null if `text` is not canonical unpadded base64url. */
export function decodeBase64url(text: string): Buffer | null {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  // Round-tripping rejects non-zero padding bits (e.g. "AB" and "AC" would decode alike).
  return bytes.toString('base64url') === text ? bytes : null;
}
