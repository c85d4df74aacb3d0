// How a CLI command reaches the gateway: the credentials of flags > environment > file,
// and, for a client or admin token, a session in its place. A session opened for the
// token of the credentials file is saved back to that file (0600), so the next command
// reuses it; one opened for a --token or OPERA_TOKEN lives as long as the command.
import type { GatewayAccess } from '../client/gateway-http.js';
import { exchangeable, SessionCredential, type StoredSession } from '../client/session.js';
import { UsageError } from './base.js';
import { credentialsFile, readCredentialsFile, resolveCredentials, writeCredentialsFile, type Env } from './credentials.js';

export interface CredentialFlags {
  readonly gateway?: string | undefined;
  readonly token?: string | undefined;
}

export async function openGatewayAccess(flags: CredentialFlags, env: Env = process.env): Promise<GatewayAccess> {
  const creds = await resolveCredentials({
    ...(flags.gateway !== undefined ? { gateway: flags.gateway } : {}),
    ...(flags.token !== undefined ? { token: flags.token } : {}),
  }, env);
  if (creds.gateway === undefined || creds.token === undefined) {
    throw new UsageError(`no ${creds.gateway === undefined ? 'gateway' : 'token'} given: pass --gateway URL --token T, set OPERA_GATEWAY and OPERA_TOKEN, or run \`opera login\` / \`opera dev\` (writes ${credentialsFile(env)})`);
  }
  const { gateway, token } = creds;
  if (!exchangeable(token)) return { gateway, token };
  const fromFile = flags.token === undefined && (env['OPERA_TOKEN'] ?? '') === '';
  const path = credentialsFile(env);
  const session = new SessionCredential(gateway, token, creds.session ?? null, {
    ...(fromFile ? { onRenewed: (s: StoredSession) => saveSession(path, token, s) } : {}),
  });
  await session.ready();
  return {
    gateway,
    get token() {
      return session.token;
    },
    renew: (rejected) => session.renew(rejected),
  };
}

/** Saves a renewed session next to its token, unless the file now holds another token. */
async function saveSession(path: string, token: string, session: StoredSession): Promise<void> {
  const file = await readCredentialsFile(path);
  if (file.token !== token) return;
  await writeCredentialsFile({ ...file, session }, path);
}
