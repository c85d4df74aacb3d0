// Object keys as DESIGN.md defines them, checked the same way by every role (CLI, gateway,
// node): UTF-8, 1..1024 bytes, '/'-separated segments, no empty segment, no control
// characters. The error names the rule that broke, so the gateway can answer 400 with it.

export const MAX_KEY_BYTES = 1024;

/** Which rule a key or prefix broke. */
export type KeyRule = 'type' | 'utf8' | 'empty' | 'too-long' | 'control-character' | 'empty-segment';

export class KeyError extends Error {
  readonly code = 'invalid-key';
  readonly rule: KeyRule;

  constructor(rule: KeyRule, message: string) {
    super(message);
    this.name = 'KeyError';
    this.rule = rule;
  }
}

// A lone surrogate has no UTF-8 encoding (Buffer.from would silently turn it into U+FFFD).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** Throws KeyError unless `key` is a valid object key. */
export function validateKey(key: string): void {
  checkCommon(key, 'key');
  if (key.length === 0) throw new KeyError('empty', 'key is empty; it must be 1 to 1024 bytes of UTF-8');
  if (key.startsWith('/')) throw new KeyError('empty-segment', "key starts with '/': it would have an empty first segment");
  if (key.endsWith('/')) throw new KeyError('empty-segment', "key ends with '/': it would have an empty last segment");
  checkInnerSegments(key, 'key');
}

/**
 * Throws KeyError unless `prefix` can start a valid key: it may be empty and may end with
 * '/', but otherwise follows the key rules.
 */
export function validatePrefix(prefix: string): void {
  checkCommon(prefix, 'prefix');
  if (prefix.startsWith('/')) throw new KeyError('empty-segment', "prefix starts with '/': no key has an empty first segment");
  checkInnerSegments(prefix, 'prefix');
}

/** True if `key` is valid (for filters; validateKey says why not). */
export function isValidKey(key: string): boolean {
  try {
    validateKey(key);
    return true;
  } catch (err) {
    if (err instanceof KeyError) return false;
    throw err;
  }
}

function checkCommon(value: string, what: 'key' | 'prefix'): void {
  if (typeof value !== 'string') throw new KeyError('type', `${what} must be a string, got ${typeof value}`);
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate) {
    throw new KeyError('utf8', `${what} is not valid UTF-8: lone surrogate at character ${surrogate.index}`);
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw new KeyError('too-long', `${what} is ${bytes} bytes of UTF-8; the limit is ${MAX_KEY_BYTES}`);
  const control = CONTROL.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new KeyError('control-character', `${what} contains the control character U+${code} at character ${control.index}`);
  }
}

function checkInnerSegments(value: string, what: 'key' | 'prefix'): void {
  const at = value.indexOf('//');
  if (at >= 0) throw new KeyError('empty-segment', `${what} contains '//' at character ${at}: segments must not be empty`);
}
