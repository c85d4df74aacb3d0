// A partition copy as one streamed body (GET /v1/partitions/{p}/export): the records of
// NodeStore.exportPartition, framed.
//
//   {type:"export", v:1, partition, epoch, lastSeq}
//   per object: {type:"object", meta:{key, version, size, plainSize, contentType, digest, createdAt, deleted}, bytes:n} + n inline bytes
//               then {type:"chunk", key, index, bytes:n} + n bytes, for each chunk of a chunked value
//   {type:"end", objects}
//
// The decoder checks shapes and bounds; order, counts and digests are checked by
// NodeStore.importRecords, which never makes an unverified object visible.
import type { ExportRecord, ObjectMeta } from '../store/index.js';
import { ByteReader, WireError } from './byte-reader.js';
import { encodeFrame, FrameFields, readFrame, WIRE_VERSION } from './frames.js';
import { wireKey } from './ops-codec.js';

/** The largest inline value or chunk one frame may carry (the store's chunk limit). */
export const MAX_EXPORT_PIECE = 64 * 1024 * 1024;

export async function* encodeExport(records: AsyncIterable<ExportRecord>): AsyncGenerator<Buffer> {
  for await (const r of records) {
    switch (r.kind) {
      case 'partition':
        yield encodeFrame({ type: 'export', v: WIRE_VERSION, partition: r.partition, epoch: r.epoch, lastSeq: r.lastSeq });
        break;
      case 'object':
        yield encodeFrame({ type: 'object', meta: { ...r.meta }, bytes: r.inline?.length ?? 0, inline: r.inline !== null });
        if (r.inline !== null && r.inline.length > 0) yield r.inline;
        break;
      case 'chunk':
        yield encodeFrame({ type: 'chunk', key: r.key, index: r.index, bytes: r.bytes.length });
        if (r.bytes.length > 0) yield r.bytes;
        break;
      case 'end':
        yield encodeFrame({ type: 'end', objects: r.objects });
        break;
    }
  }
}

/** ExportRecords from a framed body; throws WireError on anything malformed or cut short. */
export async function* decodeExport(source: AsyncIterable<Uint8Array>, expectPartition: number): AsyncGenerator<ExportRecord> {
  const reader = new ByteReader(source);
  const first = await readFrame(reader);
  if (first === null) throw new WireError('truncated', 'the copy is empty: no header');
  const h = new FrameFields(first, 'export header');
  h.only(['type', 'v', 'partition', 'epoch', 'lastSeq']);
  if (first['type'] !== 'export') h.fail('type', 'must be "export"');
  if (first['v'] !== WIRE_VERSION) h.fail('v', `must be ${WIRE_VERSION}`);
  const partition = h.count('partition');
  if (partition !== expectPartition) h.fail('partition', `is ${partition}, expected ${expectPartition}`);
  yield { kind: 'partition', partition, epoch: h.count('epoch'), lastSeq: h.count('lastSeq') };
  for (;;) {
    const json = await readFrame(reader);
    if (json === null) throw new WireError('truncated', 'the copy ends without an end frame');
    const f = new FrameFields(json, `export ${String(json['type'])} frame`);
    switch (json['type']) {
      case 'object': {
        f.only(['type', 'meta', 'bytes', 'inline']);
        const metaJson = json['meta'];
        if (typeof metaJson !== 'object' || metaJson === null || Array.isArray(metaJson)) f.fail('meta', 'must be an object');
        const meta = parseObjectMeta(new FrameFields(metaJson as Record<string, unknown>, 'object meta'));
        const inline = f.boolean('inline');
        const bytes = f.count('bytes');
        if (bytes > MAX_EXPORT_PIECE || (!inline && bytes !== 0)) f.fail('bytes', 'is out of range');
        const data = inline ? ((await reader.readExact(bytes, `the value of ${JSON.stringify(meta.key)}`)) ?? Buffer.alloc(0)) : null;
        if (inline && data !== null && data.length !== bytes) throw new WireError('truncated', 'inline value cut short');
        yield { kind: 'object', meta, inline: data };
        break;
      }
      case 'chunk': {
        f.only(['type', 'key', 'index', 'bytes']);
        const key = wireKey(f);
        const index = f.count('index');
        const bytes = f.count('bytes', 1);
        if (bytes > MAX_EXPORT_PIECE) f.fail('bytes', `exceeds ${MAX_EXPORT_PIECE}`);
        const data = await reader.readExact(bytes, `chunk ${index} of ${JSON.stringify(key)}`);
        if (data === null) throw new WireError('truncated', 'the copy ends before a chunk');
        yield { kind: 'chunk', key, index, bytes: data };
        break;
      }
      case 'end': {
        f.only(['type', 'objects']);
        const objects = f.count('objects');
        if (!(await reader.atEnd())) throw new WireError('malformed', 'bytes follow the end frame');
        yield { kind: 'end', objects };
        return;
      }
      default:
        f.fail('type', 'must be "object", "chunk" or "end"');
    }
  }
}

function parseObjectMeta(f: FrameFields): ObjectMeta {
  f.only(['key', 'version', 'size', 'plainSize', 'contentType', 'digest', 'createdAt', 'deleted']);
  return {
    key: wireKey(f),
    version: f.count('version', 1),
    size: f.count('size'),
    plainSize: f.nullableCount('plainSize'),
    contentType: f.string('contentType', 256),
    digest: f.digest('digest'),
    createdAt: f.count('createdAt'),
    deleted: f.boolean('deleted'),
  };
}
