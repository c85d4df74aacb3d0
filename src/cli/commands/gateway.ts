// `opera gateway start`: one gateway process (the public HTTP API).
import { resolve } from 'node:path';
import { Option } from 'clipanion';
import { makeLogger, stopOnSignals } from '../../common/logger.js';
import { loadClusterSecrets } from '../../crypto/secrets.js';
import { parseListen, resolveMetaLocation } from '../../gateway/config.js';
import { DEFAULT_LIMITS } from '../../gateway/context.js';
import { startGateway } from '../../gateway/server.js';
import { MAX_SESSION_TTL_S } from '../../gateway/sessions.js';
import { formatDuration, parseTtl } from '../../gateway/ttl.js';
import { intOption, OperaCommand, UsageError } from '../base.js';

export class GatewayStartCommand extends OperaCommand {
  static override paths = [['gateway', 'start']];
  static override usage = OperaCommand.Usage({
    description: 'Run a gateway: authentication, routing, node admission, the key service and the public HTTP API',
    details:
      'The gateway holds the cluster secrets (authority key and KEKs): from --secrets, or from secrets.json of the bootstrap ' +
      'directory given as --meta. It talks to meta with a short-lived gateway token it mints itself (or the token in ' +
      '--token-file). Several gateways can run at once; they share revocations, rate limits and replay nonces through ' +
      'Redis (--redis). Each flag falls back to an environment variable: OPERA_META, OPERA_LISTEN, OPERA_REDIS, OPERA_SECRETS, OPERA_SESSION_TTL.',
    examples: [
      ['Next to a bootstrap directory', 'opera gateway start --meta ./meta --listen 127.0.0.1:7300'],
      ['Two gateways sharing Redis', 'opera gateway start --meta http://10.0.0.1:7101,http://10.0.0.2:7101 --secrets /etc/opera/secrets.json --listen 0.0.0.0:7300 --redis redis://10.0.0.9:6379'],
    ],
  });
  meta = Option.String('--meta', { description: 'Meta API URLs (comma-separated) or the bootstrap directory' });
  listen = Option.String('--listen', { description: 'HOST:PORT to serve on' });
  redis = Option.String('--redis', { description: 'LiveStore URL (redis://...); default: in memory, this process only' });
  secrets = Option.String('--secrets', { description: 'The cluster secrets file (mode 0600)' });
  tokenFile = Option.String('--token-file', { description: 'Talk to meta with the token in this file instead of minting one (re-read every minute)' });
  id = Option.String('--id', { description: 'This gateway\'s name in logs and in its meta credential (default gateway-<hostname>)' });
  ratePerSec = Option.String('--rate-per-sec', { description: `Sustained requests per second per credential (default ${DEFAULT_LIMITS.rate.perSecond})` });
  rateBurst = Option.String('--rate-burst', { description: `Burst per credential (default ${DEFAULT_LIMITS.rate.burst})` });
  sessionTtl = Option.String('--session-ttl', { description: `Default and longest lifetime of a session a token is exchanged for: 90s, 15m, 1h (default ${formatDuration(DEFAULT_LIMITS.sessionTtlSeconds)})` });

  async run(): Promise<number> {
    const env = process.env;
    const metaValue = this.meta ?? env['OPERA_META'];
    const listenValue = this.listen ?? env['OPERA_LISTEN'];
    if (!metaValue) throw new UsageError('give --meta URLS|DIR (or OPERA_META)');
    if (!listenValue) throw new UsageError('give --listen HOST:PORT (or OPERA_LISTEN)');
    let listen;
    let location;
    try {
      listen = parseListen(listenValue);
      location = await resolveMetaLocation(metaValue);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const secretsPath = this.secrets ?? env['OPERA_SECRETS'] ?? location.secretsFile;
    if (secretsPath === undefined) throw new UsageError('give --secrets FILE (the cluster secrets.json) when --meta names URLs');
    const secrets = await loadClusterSecrets(resolve(secretsPath));
    const rate = {
      perSecond: intOption(this.ratePerSec, '--rate-per-sec', DEFAULT_LIMITS.rate.perSecond, 1, 1_000_000),
      burst: intOption(this.rateBurst, '--rate-burst', DEFAULT_LIMITS.rate.burst, 1, 1_000_000),
    };
    let sessionTtlSeconds = DEFAULT_LIMITS.sessionTtlSeconds;
    const sessionTtl = this.sessionTtl ?? env['OPERA_SESSION_TTL'];
    if (sessionTtl !== undefined) {
      try {
        sessionTtlSeconds = parseTtl(/^[0-9]+$/.test(sessionTtl) ? Number(sessionTtl) : sessionTtl, MAX_SESSION_TTL_S);
      } catch (err) {
        throw new UsageError(`--session-ttl: ${(err as Error).message}`);
      }
    }
    const watchMs = env['OPERA_GATEWAY_WATCH_MS'] ? intOption(env['OPERA_GATEWAY_WATCH_MS'], 'OPERA_GATEWAY_WATCH_MS', 25_000, 100, 120_000) : undefined;
    const redisUrl = this.redis ?? env['OPERA_REDIS'];
    const log = makeLogger('gateway', this.id ? { id: this.id } : {});
    const running = await startGateway({
      metaEndpoints: location.endpoints,
      secrets,
      host: listen.host,
      port: listen.port,
      log,
      limits: { rate, sessionTtlSeconds },
      ...(redisUrl ? { liveStoreUrl: redisUrl } : {}),
      ...(this.tokenFile ? { metaTokenFile: resolve(this.tokenFile) } : {}),
      ...(this.id ? { id: this.id } : {}),
      ...(watchMs !== undefined ? { watchTimeoutMs: watchMs } : {}),
    });
    stopOnSignals(log, () => running.stop());
    await new Promise(() => {}); // serve until a signal
    return 0;
  }
}

export const gatewayCommands = [GatewayStartCommand];
