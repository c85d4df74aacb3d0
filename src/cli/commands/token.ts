// `opera token create|revoke` and `opera login`: credentials through a gateway.
// The gateway and the token come from --gateway/--token, then OPERA_GATEWAY/OPERA_TOKEN,
// then the credentials file (src/cli/credentials.ts).
import { Option } from 'clipanion';
import { OperaCommand, UsageError } from '../base.js';
import { exchangeable, SessionCredential, type StoredSession } from '../../client/session.js';
import { openGatewayAccess } from '../access.js';
import { readCredentialsFile, writeCredentialsFile } from '../credentials.js';
import { callGateway, GatewayCallError, type GatewayTarget } from '../gateway-call.js';

const ROLES = ['node', 'client', 'admin', 'join', 'sentinel'];

abstract class GatewayClientCommand extends OperaCommand {
  gateway = Option.String('--gateway', { description: 'Gateway URL (default: OPERA_GATEWAY, then the credentials file)' });
  token = Option.String('--token', { description: 'Credential (default: OPERA_TOKEN, then the credentials file)' });

  async target(): Promise<GatewayTarget> {
    return openGatewayAccess({ gateway: this.gateway, token: this.token });
  }
}

interface Minted {
  token: string;
  id: string;
  role: string;
  sub: string;
  expiresAt: number;
}

export class TokenCreateCommand extends GatewayClientCommand {
  static override paths = [['token', 'create']];
  static override usage = OperaCommand.Usage({
    description: 'Mint a credential (needs an admin token)',
    details: 'Prints the token alone on stdout (its id and expiry on stderr), so `T=$(opera token create ...)` works; --json prints everything. A join token lets one storage node join, once.',
    examples: [
      ['A join token for a new node', 'opera token create --role join --ttl 1h'],
      ['A client credential for a day', 'opera token create --role client --ttl 1d --sub alice'],
    ],
  });
  role = Option.String('--role', { required: true, description: ROLES.join('|') });
  ttl = Option.String('--ttl', { required: true, description: 'Lifetime: 90s, 30m, 1h, 7d or seconds' });
  sub = Option.String('--sub', { description: 'Subject: who the credential is for (default: the role)' });

  async run(): Promise<number> {
    if (!ROLES.includes(this.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    if (!/^[1-9][0-9]*[smhd]?$/.test(this.ttl)) throw new UsageError('--ttl must look like 90s, 30m, 1h, 7d or a number of seconds');
    const ttl = /^[0-9]+$/.test(this.ttl) ? Number(this.ttl) : this.ttl;
    const minted = await callGateway<Minted>(await this.target(), 'POST', '/v1/tokens', {
      role: this.role, ttl, ...(this.sub !== undefined ? { sub: this.sub } : {}),
    });
    if (this.json) {
      this.context.stdout.write(JSON.stringify(minted) + '\n');
    } else {
      this.context.stdout.write(`${minted.token}\n`);
      this.context.stderr.write(`${minted.role} token for ${minted.sub}, id ${minted.id}, expires ${new Date(minted.expiresAt).toISOString()}\n`);
    }
    return 0;
  }
}

export class TokenRevokeCommand extends GatewayClientCommand {
  static override paths = [['token', 'revoke']];
  static override usage = OperaCommand.Usage({
    description: 'Revoke a credential by id (needs an admin token); every gateway and meta refuse it from then on',
    examples: [['Revoke a token', 'opera token revoke --id 0123456789abcdef0123456789abcdef']],
  });
  id = Option.String('--id', { required: true, description: 'The credential id (32 hex digits)' });
  expiresAt = Option.String('--expires-at', { description: 'The credential\'s expiry (ISO date or epoch ms), to keep the revocation no longer than needed' });

  async run(): Promise<number> {
    if (!/^[0-9a-f]{32}$/.test(this.id)) throw new UsageError('--id must be 32 lowercase hex digits (the id printed by `opera token create`)');
    let expiresAt: number | undefined;
    if (this.expiresAt !== undefined) {
      expiresAt = /^[0-9]+$/.test(this.expiresAt) ? Number(this.expiresAt) : Date.parse(this.expiresAt);
      if (!Number.isSafeInteger(expiresAt)) throw new UsageError('--expires-at must be an ISO date or epoch milliseconds');
    }
    const res = await callGateway<{ id: string; revokedUntil: number }>(await this.target(), 'POST', '/v1/tokens/revoke', {
      id: this.id, ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    this.out(`Revoked ${res.id} (until ${new Date(res.revokedUntil).toISOString()})`, res);
    return 0;
  }
}

export class LoginCommand extends OperaCommand {
  static override paths = [['login']];
  static override usage = OperaCommand.Usage({
    description: 'Check a credential against a gateway, exchange it for a short-lived session, and save both in the credentials file (mode 0600)',
    details: 'The file is $OPERA_HOME/credentials.json, else ~/.config/opera/credentials.json. Later commands use it when no --gateway/--token or OPERA_GATEWAY/OPERA_TOKEN is given. A client or admin token is sent only to open sessions: commands send the session (to the gateway and to storage nodes) and open a new one when it runs out.',
    examples: [['Log in', 'opera login --gateway http://127.0.0.1:7300 --token "$(cat meta/admin.token)"']],
  });
  gateway = Option.String('--gateway', { description: 'Gateway URL (default: OPERA_GATEWAY)' });
  token = Option.String('--token', { description: 'Credential (default: OPERA_TOKEN)' });

  async run(): Promise<number> {
    const gateway = (this.gateway ?? process.env['OPERA_GATEWAY'])?.replace(/\/+$/, '');
    const token = this.token ?? process.env['OPERA_TOKEN'];
    if (!gateway || !token) throw new UsageError('give --gateway URL and --token T');
    try {
      new URL(gateway);
    } catch {
      throw new UsageError(`--gateway "${gateway}" is not a URL (e.g. http://127.0.0.1:7300)`);
    }
    const who = await callGateway<{ role: string; sub: string; id: string; expiresAt: number }>({ gateway, token }, 'GET', '/v1/whoami');
    let session: StoredSession | undefined;
    if (exchangeable(token)) {
      const opened = new SessionCredential(gateway, token, null);
      await opened.ready();
      session = opened.session ?? undefined;
    }
    const path = await writeCredentialsFile({ gateway, token, ...(session ? { session } : {}) });
    const until = session ? `; session until ${new Date(session.expiresAt).toISOString()}, renewed as needed` : '';
    this.out(
      `Logged in to ${gateway} as ${who.role} ${who.sub} (token expires ${new Date(who.expiresAt).toISOString()}${until}); saved to ${path}`,
      { gateway, role: who.role, sub: who.sub, id: who.id, expiresAt: who.expiresAt, file: path, ...(session ? { sessionExpiresAt: session.expiresAt } : {}) },
    );
    return 0;
  }
}

export class LogoutCommand extends OperaCommand {
  static override paths = [['logout']];
  static override usage = OperaCommand.Usage({
    description: 'End the saved session everywhere and forget the saved token (the gateway URL stays)',
    details: 'The token itself stays valid until it expires or an admin revokes it (`opera token revoke`).',
  });

  async run(): Promise<number> {
    const file = await readCredentialsFile();
    let ended = false;
    if (file.gateway !== undefined && file.session !== undefined && file.session.expiresAt > Date.now()) {
      try {
        await callGateway({ gateway: file.gateway, token: file.session.token }, 'DELETE', '/v1/sessions/current');
        ended = true;
      } catch (err) {
        // Already ended (expired, revoked): nothing left to end. Anything else is reported.
        if (!(err instanceof GatewayCallError && err.status === 401)) throw err;
      }
    }
    const path = await writeCredentialsFile(file.gateway !== undefined ? { gateway: file.gateway } : {});
    this.out(`Logged out${ended ? ' (session ended)' : ''}; ${path} keeps only the gateway URL`, { ended, file: path });
    return 0;
  }
}

export const tokenCommands = [TokenCreateCommand, TokenRevokeCommand, LoginCommand, LogoutCommand];
