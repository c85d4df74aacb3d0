// `opera sentinel start`: one sentinel process (node failure detection).
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Option } from 'clipanion';
import { makeLogger, stopOnSignals } from '../../common/logger.js';
import { decodeBase64url } from '../../crypto/base64url.js';
import { loadClusterSecrets, type ClusterSecrets } from '../../crypto/secrets.js';
import { parseListen, resolveMetaLocation } from '../../gateway/config.js';
import { sentinelSettings, SENTINEL_DEFAULTS } from '../../sentinel/config.js';
import type { SentinelCredential } from '../../sentinel/meta-link.js';
import { startSentinel } from '../../sentinel/start.js';
import { OperaCommand, UsageError } from '../base.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class SentinelStartCommand extends OperaCommand {
  static override paths = [['sentinel', 'start']];
  static override usage = OperaCommand.Usage({
    description: 'Run a sentinel: probe every storage node, take heartbeats, report failed nodes to meta',
    details:
      'Probes GET /healthz of every node meta lists, once per --interval. A node is suspect after --suspect-after missed ' +
      'probes in a row and down once it stayed unreachable for --down-after; meta then plans its repair (after the ' +
      'cluster\'s repair grace period). Several sentinels share their observations through Redis (--redis) and a node is ' +
      'reported down only when --quorum of them see it down. The sentinel talks to meta with a sentinel token (--token) ' +
      'or mints one from the cluster secrets (--secrets, or secrets.json of the bootstrap directory given as --meta). ' +
      'Flags fall back to OPERA_META, OPERA_TOKEN, OPERA_SECRETS, OPERA_REDIS and OPERA_LISTEN. See docs/operations.md.',
    examples: [
      ['Next to a bootstrap directory', 'opera sentinel start --meta ./meta'],
      ['One of three sentinels sharing Redis', 'opera sentinel start --meta http://10.0.0.1:7101,http://10.0.0.2:7101 --token "$SENTINEL_TOKEN" --id s1 --redis redis://10.0.0.9:6379 --quorum 2 --listen 0.0.0.0:7400 --authority-key KEY'],
    ],
  });
  meta = Option.String('--meta', { description: 'Meta API URLs (comma-separated) or the bootstrap directory' });
  token = Option.String('--token', { description: 'A sentinel token for meta' });
  secrets = Option.String('--secrets', { description: 'The cluster secrets file: the sentinel mints its own token' });
  id = Option.String('--id', { description: 'This sentinel\'s name; unique among sentinels (default sentinel-<hostname>)' });
  redis = Option.String('--redis', { description: 'LiveStore URL (redis://...) shared by the sentinels; default: in memory, quorum 1' });
  listen = Option.String('--listen', { description: 'HOST:PORT for node heartbeats (POST /v1/heartbeat) and /metrics' });
  authorityKey = Option.String('--authority-key', { description: 'The cluster authority public key (base64url), to check credentials on --listen without the secrets' });
  interval = Option.String('--interval', { description: `Time between probes of a node (default ${SENTINEL_DEFAULTS.intervalMs / 1000}s)` });
  timeout = Option.String('--timeout', { description: 'A probe without an answer after this is a miss (default: the interval, at most 1s)' });
  suspectAfter = Option.String('--suspect-after', { description: `Missed probes in a row that make a node suspect (default ${SENTINEL_DEFAULTS.suspectAfterMisses})` });
  recoverAfter = Option.String('--recover-after', { description: 'Answers in a row that make a suspect or down node up again (default: --suspect-after)' });
  downAfter = Option.String('--down-after', { description: `How long a node must stay unreachable to be down (default ${SENTINEL_DEFAULTS.downAfterMs / 1000}s)` });
  minDwell = Option.String('--min-dwell', { description: 'Least time between two state changes of one node (default: two intervals)' });
  quorum = Option.String('--quorum', { description: `Sentinels that must see a node down before it is reported (default ${SENTINEL_DEFAULTS.quorum}; more needs --redis)` });

  async run(): Promise<number> {
    // An empty variable counts as unset.
    const env = (name: string): string | undefined => process.env[name] || undefined;
    const metaValue = this.meta ?? env('OPERA_META');
    if (!metaValue) throw new UsageError('give --meta URLS|DIR (or OPERA_META)');
    const redisUrl = this.redis ?? env('OPERA_REDIS');
    const listenValue = this.listen ?? env('OPERA_LISTEN');
    const id = this.id ?? `sentinel-${hostname()}`.slice(0, 128);
    if (!ID.test(id)) throw new UsageError('--id must be 1..128 characters of letters, digits, ".", "_" or "-"');
    let location;
    let settings;
    let listen;
    try {
      location = await resolveMetaLocation(metaValue);
      settings = sentinelSettings({
        interval: this.interval, timeout: this.timeout, suspectAfter: this.suspectAfter, recoverAfter: this.recoverAfter,
        downAfter: this.downAfter, minDwell: this.minDwell, quorum: this.quorum, shared: redisUrl !== undefined && redisUrl !== '' && redisUrl !== 'memory:',
      });
      listen = listenValue ? parseListen(listenValue) : undefined;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }

    const token = this.token ?? env('OPERA_TOKEN');
    const secretsPath = this.secrets ?? env('OPERA_SECRETS') ?? location.secretsFile;
    // The secrets are read only when needed: to mint a token, or to check credentials.
    let secrets: ClusterSecrets | undefined;
    const needSecrets = token === undefined || (listen !== undefined && this.authorityKey === undefined);
    if (needSecrets) {
      if (secretsPath === undefined) {
        throw new UsageError(token === undefined
          ? 'give --token T (a sentinel token) or --secrets FILE when --meta names URLs'
          : '--listen needs --authority-key KEY or --secrets FILE to check node credentials');
      }
      secrets = await loadClusterSecrets(resolve(secretsPath));
    }
    let authorityPublicKey: Uint8Array | undefined = secrets?.authority.publicKey;
    if (this.authorityKey !== undefined) {
      const key = decodeBase64url(this.authorityKey);
      if (key === null || key.length !== 32) throw new UsageError('--authority-key must be the 32-byte authority public key in base64url');
      authorityPublicKey = key;
    }
    const credential: SentinelCredential = token !== undefined
      ? { kind: 'token', token }
      : { kind: 'mint', authority: secrets!.authority, subject: id };

    const log = makeLogger('sentinel', { id });
    const running = await startSentinel({
      id, metaEndpoints: location.endpoints, credential, settings, log,
      ...(redisUrl ? { liveStoreUrl: redisUrl } : {}),
      ...(listen ? { listen } : {}),
      ...(authorityPublicKey ? { authorityPublicKey } : {}),
    });
    stopOnSignals(log, () => running.stop());
    await new Promise(() => {}); // run until a signal
    return 0;
  }
}

export const sentinelCommands = [SentinelStartCommand];
