// Field readers for commands decoded from the log. Each throws a CommandRejected
// ('invalid') naming the command and the field, so a bad proposal is refused with a
// message the operator can act on.

import { reject } from './errors.js';

export type Fields = Record<string, unknown>;

/** Ids: node, plan, token, credential, member. The first character excludes `__proto__`. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$/;
const PRINTABLE = /^[\x21-\x7e]+$/;
const TEXT = /^[\x20-\x7e]+$/;

export class Reader {
  constructor(
    private readonly what: string,
    private readonly fields: Fields,
  ) {}

  /** Refuses fields the command does not define, so a typo is not silently ignored. */
  only(allowed: readonly string[]): void {
    for (const key of Object.keys(this.fields)) {
      if (!allowed.includes(key)) reject('invalid', `${this.what}: unknown field "${key}"`);
    }
  }

  has(key: string): boolean {
    return Object.hasOwn(this.fields, key) && this.fields[key] !== undefined;
  }

  id(key: string): string {
    const v = this.fields[key];
    if (typeof v !== 'string' || !ID.test(v)) {
      this.fail(key, 'must be an id: 1-128 characters from A-Z a-z 0-9 . _ : ~ -, starting with a letter or digit');
    }
    return v;
  }

  optionalId(key: string): string | undefined {
    return this.has(key) ? this.id(key) : undefined;
  }

  url(key: string): string {
    const v = this.fields[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > 2048) this.fail(key, 'must be a URL of 1-2048 characters');
    try {
      new URL(v);
    } catch {
      this.fail(key, `is not a valid URL`);
    }
    return v;
  }

  printable(key: string, max: number): string {
    const v = this.fields[key];
    if (typeof v !== 'string' || v.length > max || !PRINTABLE.test(v)) {
      this.fail(key, `must be 1-${max} printable ASCII characters`);
    }
    return v;
  }

  /** Human text (a reason): printable ASCII, spaces allowed. */
  text(key: string, max: number): string {
    const v = this.fields[key];
    if (typeof v !== 'string' || v.length > max || !TEXT.test(v)) this.fail(key, `must be 1-${max} printable ASCII characters`);
    return v;
  }

  int(key: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    const v = this.fields[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      this.fail(key, `must be an integer in [${min}, ${max}]`);
    }
    return v;
  }

  optionalInt(key: string, min: number, max?: number): number | undefined {
    return this.has(key) ? this.int(key, min, max) : undefined;
  }

  positive(key: string): number {
    const v = this.fields[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1e18) {
      this.fail(key, 'must be a finite number > 0');
    }
    return v;
  }

  bool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.fields[key];
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.fields[key];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `must be one of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  list(key: string, max: number): unknown[] {
    const v = this.fields[key];
    if (!Array.isArray(v) || v.length > max) this.fail(key, `must be a list of at most ${max} items`);
    return v;
  }

  idList(key: string, max: number): string[] {
    const ids = this.list(key, max).map((v, i) => {
      if (typeof v !== 'string' || !ID.test(v)) this.fail(`${key}[${i}]`, 'must be an id');
      return v;
    });
    if (new Set(ids).size !== ids.length) this.fail(key, 'lists an id twice');
    return ids;
  }

  nested(key: string, index: number): Reader {
    const items = this.fields[key] as unknown[];
    return new Reader(`${this.what}.${key}[${index}]`, asFields(items[index], `${this.what}.${key}[${index}]`));
  }

  fail(key: string, why: string): never {
    reject('invalid', `${this.what}: field "${key}" ${why}`);
  }
}

export function asFields(input: unknown, what: string): Fields {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) reject('invalid', `${what} must be an object`);
  return input as Fields;
}
