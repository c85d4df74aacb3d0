// The gateway API as an OpenAPI 3.0 document, served at GET /v1/openapi.json. Written by
// hand; test/gateway/openapi.test.ts checks that it lists exactly the registered routes.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => (description ? { type: 'string', description } : { type: 'string' });
const int = (description?: string): Schema => (description ? { type: 'integer', description } : { type: 'integer' });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false,
});
const b64 = (bytes: number, description: string): Schema => ({ type: 'string', format: 'base64url', description: `${description} (${bytes} bytes, unpadded base64url)` });

const json = (schema: Schema): Schema => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: Schema): Schema => ({ description, ...json(schema) });
const error = (description: string): Schema => ({ description, ...json(ref('Error')) });

/** The error answers every authenticated route can give. */
const AUTH_ERRORS: Record<string, Schema> = {
  '401': error('No valid credential: missing, malformed, forged, expired or revoked'),
  '403': error('The credential\'s role may not call this route'),
  '429': error('The credential\'s rate limit is exhausted; see Retry-After'),
  '503': error('A dependency (meta, the LiveStore) cannot be reached, or the map is not loaded; retry'),
};
const BODY_ERRORS: Record<string, Schema> = {
  '400': error('Malformed JSON or a field that breaks its rule (the message names it)'),
  '413': error('The body is too large'),
  '415': error('The body is not application/json'),
};

function op(summary: string, roles: string[], responses: Record<string, Schema>, extra: Schema = {}): Schema {
  return {
    summary,
    description: `Roles: ${roles.join(', ')}.`,
    'x-roles': roles,
    ...(roles.length > 0 ? { security: roles.includes('signed node') ? [{ signedRequest: [] }] : [{ bearer: [] }] } : { security: [] }),
    responses: { ...responses, ...(roles.length > 0 ? AUTH_ERRORS : {}) },
    ...extra,
  };
}

const body = (schema: Schema): Schema => ({ requestBody: { required: true, ...json(schema) } });
const VIEW = ['admin', 'client', 'sentinel', 'node'];
const PROBE = ['admin', 'client', 'gateway', 'node', 'sentinel'];
const KEYS = ['client', 'admin', 'gateway'];
const OBJECTS = ['client', 'admin'];
const OBJECT_PARAMS = [{ name: 'key', in: 'path', required: true, schema: { type: 'string', description: 'the object key; its / separators stay as they are' } }];

const COUNTER_PARAMS = [{ name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } }];

const nodeRef = obj({ id: str(), url: { type: 'string', nullable: true } }, ['id', 'url']);
const wrapped = obj({
  kekName: str('KEK name'), kekVersion: int('KEK version, >= 1'), nonce: b64(24, 'wrap nonce'), wrappedKey: b64(48, 'wrapped data key and tag'),
}, ['kekName', 'kekVersion', 'nonce', 'wrappedKey']);

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'Space Opera gateway',
    version: '1',
    description: 'The public HTTP API of a Space Opera cluster. Errors are JSON {"error": {"code", "message"}}. '
      + 'Every route but /healthz needs a credential. Every answer carries X-Request-Id.',
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'opera1 token (docs/encryption-format.md)' },
      signedRequest: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'opera-sig1 cert=...,ts=...,nonce=...,sig=... (docs/encryption-format.md)' },
    },
    schemas: {
      Error: obj({ error: obj({ code: str(), message: str() }, ['code', 'message']) }, ['error']),
      WrappedKey: wrapped,
      ConsoleView: {
        type: 'object',
        description: 'src/gateway/console/view.ts: at, gateway, clusterId, mapVersion, settings, meta {leader, term, commitIndex, members}, '
          + 'nodes [{id, state, zone, capacity, partitions {primary, replica, learner}, stats {reachable, storedBytes, replicationLag}, sentinels}], '
          + 'partitions [{partition, epoch, primary, replicas, learners, health}], plans (as /v1/plans), sentinelsVisible, '
          + 'telemetry {requests [{at, requests, errors, meanMs, p95Ms}], samples [{at, replicationLag, repairBytesPerSecond}]}, error',
        required: ['at', 'meta', 'nodes', 'partitions', 'plans', 'telemetry'],
      },
      Route: obj({
        key: str(), partition: int(), epoch: int(), mapVersion: int(),
        primary: { ...nodeRef, nullable: true }, replicas: { type: 'array', items: nodeRef },
      }, ['key', 'partition', 'epoch', 'mapVersion', 'primary', 'replicas']),
    },
  },
  paths: {
    '/healthz': { get: op('Liveness: the process serves HTTP (anonymous)', [], { '200': ok('Serving', obj({ ok: { type: 'boolean' } })) }) },
    '/readyz': {
      get: op('Readiness: meta answered recently, the map is loaded, the LiveStore answers', PROBE, {
        '200': ok('Ready', obj({ ready: { type: 'boolean' }, reasons: { type: 'array', items: str() } })),
      }),
    },
    '/metrics': {
      get: op('Prometheus metrics', ['admin', 'gateway', 'node', 'sentinel'], {
        '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: str() } } },
      }),
    },
    '/v1/openapi.json': { get: op('This document', PROBE, { '200': ok('OpenAPI 3.0', { type: 'object' }) }) },
    '/v1/whoami': {
      get: op('The caller\'s credential', [...PROBE, 'join'], {
        '200': ok('Claims', obj({ id: str(), role: str(), sub: str(), issuedAt: int('ms'), expiresAt: int('ms'), parent: str('a session: the id of the token it was exchanged for') })),
      }),
    },
    '/v1/join': {
      post: op('Admit a storage node with a single-use join token', ['join'], {
        '201': ok('Admitted', obj({
          nodeId: str(), certificate: str('operacert1 certificate for the node key'), certificateExpiresAt: int('ms'),
          token: str('node token, 30 days'), tokenExpiresAt: int('ms'), authorityPublicKey: b64(32, 'cluster authority key'),
          metaEndpoints: { type: 'array', items: str() }, clusterId: str(),
        })),
        '409': error('token-used (the join token was used before), node-exists or conflict (public key in use)'),
        ...BODY_ERRORS,
      }, body(obj({
        nodeId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
        publicKey: b64(32, 'the node\'s Ed25519 public key'),
        url: str('http(s)://HOST:PORT'),
        zone: { type: 'string', maxLength: 32 },
        capacity: { type: 'integer', minimum: 1 },
      }, ['nodeId', 'publicKey', 'url', 'capacity']))),
    },
    '/v1/renew': {
      post: op('A fresh node token (and certificate), for a request signed with the node certificate', ['signed node'], {
        '200': ok('Renewed', obj({ token: str(), tokenExpiresAt: int('ms'), certificate: str(), certificateExpiresAt: int('ms') })),
      }, { requestBody: { required: false, ...json({ type: 'object', additionalProperties: false }) } }),
    },
    '/v1/tokens': {
      post: op('Mint a credential', ['admin'], {
        '201': ok('Minted', obj({ token: str(), id: str(), role: str(), sub: str(), expiresAt: int('ms') })),
        ...BODY_ERRORS,
      }, body(obj({
        role: { type: 'string', enum: ['node', 'client', 'admin', 'join', 'sentinel'] },
        ttl: { oneOf: [{ type: 'string', pattern: '^[1-9][0-9]*[smhd]?$' }, { type: 'integer', minimum: 1 }] },
        sub: { type: 'string', maxLength: 256 },
      }, ['role', 'ttl']))),
    },
    '/v1/tokens/revoke': {
      post: op('Revoke a credential by id, in meta and the LiveStore', ['admin'], {
        '200': ok('Revoked', obj({ id: str(), revokedUntil: int('ms'), effective: { type: 'boolean' } })),
        ...BODY_ERRORS,
      }, body(obj({ id: { type: 'string', pattern: '^[0-9a-f]{32}$' }, expiresAt: int('ms; default: longer than any token lives') }, ['id']))),
    },
    '/v1/sessions': {
      post: op('Exchange a long-lived client or admin token for a short-lived session (default 15 min, never past the token\'s expiry)', OBJECTS, {
        '201': ok('Opened: send the session as the bearer credential from now on', obj({
          session: str('opera1 token naming its parent token'), id: str('session id'), parent: str('id of the token presented'),
          role: str(), sub: str(), expiresAt: int('ms'),
        })),
        ...BODY_ERRORS,
      }, { requestBody: { required: false, ...json(obj({ ttl: { oneOf: [{ type: 'string', pattern: '^[1-9][0-9]*[smhd]?$' }, { type: 'integer', minimum: 1 }], description: 'shorter than the gateway\'s limit' } })) } }),
    },
    '/v1/sessions/current': {
      delete: op('Log out: end the session presented, on every gateway, node and meta member', OBJECTS, {
        '200': ok('Ended', obj({ id: str(), ended: { type: 'boolean' } })),
        '400': error('not-a-session: the credential is a long-lived token'),
      }),
    },
    '/v1/keys/wrap': {
      post: op('Wrap data keys with the current KEK (batches of up to 1000)', KEYS, {
        '200': ok('One wrapped key per item, in order', obj({ items: { type: 'array', items: ref('WrappedKey') } })),
        ...BODY_ERRORS,
      }, body(obj({
        items: { type: 'array', minItems: 1, maxItems: 1000, items: obj({ objectKey: str(), dataKey: b64(32, 'data key') }, ['objectKey', 'dataKey']) },
      }, ['items']))),
    },
    '/v1/keys/unwrap': {
      post: op('Unwrap data keys (batches of up to 1000); a bad item fails alone', KEYS, {
        '200': ok('One result per item, in order', obj({
          items: {
            type: 'array',
            items: { oneOf: [obj({ ok: { type: 'boolean' }, dataKey: b64(32, 'data key') }), obj({ ok: { type: 'boolean' }, error: ref('Error') })] },
          },
        })),
        ...BODY_ERRORS,
      }, body(obj({
        items: { type: 'array', minItems: 1, maxItems: 1000, items: obj({ objectKey: str(), header: ref('WrappedKey') }, ['objectKey', 'header']) },
      }, ['items']))),
    },
    '/v1/route': {
      get: op('The partition, epoch, primary and replicas of a key', KEYS, {
        '200': ok('The route', ref('Route')),
        '400': error('invalid-key: the key breaks a rule (the message names it)'),
      }, { parameters: [{ name: 'key', in: 'query', required: true, schema: str() }] }),
    },
    '/v1/map': {
      get: op('The whole partition map (direct-mode clients)', [...KEYS, 'node', 'sentinel'], { '200': ok('The map', { type: 'object' }) }),
    },
    '/v1/nodes': { get: op('Storage nodes with their state and partition counts', VIEW, { '200': ok('Nodes', { type: 'object' }) }) },
    '/v1/cluster': {
      get: op('Cluster summary: meta members, settings, partitions (total, under-replicated), plans, map version', VIEW, {
        '200': ok('Summary', { type: 'object' }),
      }),
    },
    '/v1/plans': { get: op('Re-replication and rebalancing plans with progress and ETA', VIEW, { '200': ok('Plans', { type: 'object' }) }) },
    '/console': {
      get: op('The web console\'s page (anonymous: it holds no data and asks for a token before it shows anything)', [], {
        '200': { description: 'HTML, with a strict Content-Security-Policy; Cache-Control: no-cache and an ETag (304 when unchanged)', content: { 'text/html': { schema: str() } } },
        '503': error('console-not-built: the browser code has not been built (npm run build)'),
      }),
    },
    '/console/assets/{file}': {
      get: op('A static file of the web console: its compiled scripts and style sheet (anonymous)', [], {
        '200': { description: 'text/javascript or text/css; Cache-Control: no-cache and an ETag', content: { 'text/javascript': { schema: str() } } },
        '404': error('not-found: no such asset'),
      }, { parameters: [{ name: 'file', in: 'path', required: true, schema: str('e.g. main.js, console.css') }] }),
    },
    '/v1/console/view': {
      get: op('The console\'s picture of the cluster: meta members, nodes with stored bytes, replication lag and sentinel observations, '
        + 'every partition with its health, plans, and telemetry of the last minutes', VIEW, {
        '200': ok('The view (docs/console.md)', ref('ConsoleView')),
      }),
    },
    '/v1/console/events': {
      get: op('The console\'s view as server-sent events: `event: view` now (with the whole telemetry history) and after every sample '
        + '(with the telemetry since the previous one); comments every 15 s keep the stream open', VIEW, {
        '200': { description: 'text/event-stream of `view` events whose data is a ConsoleView', content: { 'text/event-stream': { schema: str() } } },
      }),
    },
    '/v1/counters/{name}': {
      post: op('Add to a cluster counter exactly once: a retry with the same clientId and seq answers the first add\'s value and adds nothing. '
        + 'One add at a time per clientId, each with a higher seq than the last', OBJECTS, {
        '200': ok('Added (or the recorded answer of a retry)', obj({
          name: str(), value: int('the counter after this add'), delta: int(), clientId: str(), seq: int(),
        }, ['name', 'value', 'delta', 'clientId', 'seq'])),
        '409': error('stale-sequence (seq is older than the client\'s last one), sequence-reused (seq was used for another add) '
          + 'or limit-exceeded (too many counters, or the value would pass 2^53-1)'),
        '503': error('meta-unavailable: the outcome is unknown; retry with the same clientId and seq'),
        ...BODY_ERRORS,
        '400': error('invalid-counter-name, or a body field that breaks its rule'),
      }, {
        parameters: COUNTER_PARAMS,
        ...body(obj({
          clientId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', description: 'names the caller\'s session (within its credential)' },
          seq: { type: 'integer', minimum: 1, description: 'this add\'s sequence number in the session; the same on every retry' },
          delta: { type: 'integer', minimum: 1, maximum: 1000000, description: 'default 1' },
        }, ['clientId', 'seq'])),
      }),
      get: op('A cluster counter\'s value, linearizable (0 if never added to)', OBJECTS, {
        '200': ok('The value', obj({ name: str(), value: int() }, ['name', 'value'])),
        '400': error('invalid-counter-name'),
      }, { parameters: COUNTER_PARAMS }),
    },
    '/v1/objects': {
      get: op('Ordered, paginated listing of keys by prefix across every partition', OBJECTS, {
        '200': ok('A page', obj({
          items: { type: 'array', items: obj({ key: str(), version: int(), size: int('plaintext bytes'), contentType: str(), digest: str('SHA-256 of the ciphertext') }) },
          next: { type: 'string', nullable: true, description: 'cursor for ?after= (null on the last page)' },
        }, ['items', 'next'])),
        '400': error('invalid-prefix, bad-cursor or a bad limit'),
      }, { parameters: [
        { name: 'prefix', in: 'query', schema: str() },
        { name: 'after', in: 'query', schema: str('cursor from the previous page') },
        { name: 'limit', in: 'query', schema: int('1..10000, default 1000') },
      ] }),
    },
    '/v1/objects/{key}': {
      put: op('Store a value (streamed; encrypted by the gateway)', OBJECTS, {
        '201': ok('Stored', obj({ key: str(), version: int('the new ETag') }, ['key', 'version'])),
        '400': error('invalid-key'),
        '412': error('precondition-failed: If-Match or If-None-Match did not hold'),
        '503': error('not-enough-replicas, no-primary or retry-upload: retry'),
      }, { parameters: OBJECT_PARAMS, requestBody: { required: true, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } } }),
      get: op('Read a value (decrypted by the gateway); Range: bytes=a-b gives 206', OBJECTS, {
        '200': { description: 'The value', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        '206': { description: 'A byte range of the value' },
        '404': error('not-found'),
        '416': error('range-not-satisfiable'),
      }, { parameters: [...OBJECT_PARAMS, { name: 'consistency', in: 'query', schema: { type: 'string', enum: ['linearizable', 'any'] } }] }),
      head: op('Version (ETag), size and content type of a value', OBJECTS, {
        '200': { description: 'Exists' },
        '404': { description: 'Absent' },
      }, { parameters: OBJECT_PARAMS }),
      delete: op('Delete a value (a tombstone); If-Match makes it conditional', OBJECTS, {
        '204': { description: 'Deleted' },
        '404': error('not-found'),
        '412': error('precondition-failed'),
      }, { parameters: OBJECT_PARAMS }),
    },
  },
} as const;
