// Request bodies: bounded reads and field checks that answer 400 naming the field and
// the rule, so a caller can fix the request without reading the gateway's source.
import type { Context } from 'koa';
import { ApiError, readJson } from '../common/http-errors.js';
import { decodeBase64url } from '../crypto/base64url.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'bad-request', message);
}

/** A JSON object body of at most `limit` bytes. */
export async function readJsonObject(ctx: Context, limit: number): Promise<Fields> {
  const body = await readJson(ctx, limit);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  return new Fields(body as Record<string, unknown>, 'body');
}

/** The raw body, at most `limit` bytes (413 beyond). */
export async function readRawBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new ApiError(413, 'too-large', `the body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, 'too-large', `the body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Typed access to the fields of one JSON object; `where` names it in errors ("body", "items[3]"). */
export class Fields {
  constructor(readonly raw: Readonly<Record<string, unknown>>, readonly where: string) {}

  /** Refuses fields that are not in `allowed`, so a typo is not silently ignored. */
  only(allowed: readonly string[]): this {
    for (const key of Object.keys(this.raw)) {
      if (!allowed.includes(key)) throw badRequest(`${this.where}: unknown field "${key}" (allowed: ${allowed.join(', ')})`);
    }
    return this;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.raw, key) && this.raw[key] !== undefined && this.raw[key] !== null;
  }

  fail(key: string, rule: string): never {
    throw badRequest(`${this.where}: "${key}" ${rule}`);
  }

  string(key: string, pattern: RegExp, rule: string): string {
    const v = this.raw[key];
    if (typeof v !== 'string' || !pattern.test(v)) this.fail(key, rule);
    return v;
  }

  /** Text without control characters, 1..max characters. */
  text(key: string, max: number): string {
    const v = this.raw[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > max || CONTROL.test(v)) {
      this.fail(key, `must be 1..${max} characters without control characters`);
    }
    return v;
  }

  integer(key: string, min: number, max: number): number {
    const v = this.raw[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) this.fail(key, `must be an integer from ${min} to ${max}`);
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.raw[key];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) this.fail(key, `must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  /** base64url (unpadded, canonical) of exactly `bytes` bytes. */
  bytes(key: string, bytes: number): Buffer {
    const v = this.raw[key];
    const decoded = typeof v === 'string' ? decodeBase64url(v) : null;
    if (decoded === null || decoded.length !== bytes) this.fail(key, `must be ${bytes} bytes in unpadded base64url`);
    return decoded;
  }

  /** A list of 1..max objects, each as Fields. */
  objects(key: string, max: number): Fields[] {
    const v = this.raw[key];
    if (!Array.isArray(v) || v.length === 0 || v.length > max) this.fail(key, `must be a list of 1..${max} objects`);
    return v.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw badRequest(`${this.where}: "${key}[${i}]" must be an object`);
      return new Fields(item as Record<string, unknown>, `${key}[${i}]`);
    });
  }

  object(key: string): Fields {
    const v = this.raw[key];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'must be an object');
    return new Fields(v as Record<string, unknown>, `${this.where}.${key}`);
  }
}
