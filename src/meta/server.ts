// `opera meta start`: one meta member and its HTTP API in this process.
import { createServer, type Server } from 'node:http';
import { metaApi } from './api.js';
import { MetaMember, splitHostPort, type MetaMemberOptions } from './member.js';

export interface RunningMeta {
  readonly member: MetaMember;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startMetaServer(opts: MetaMemberOptions): Promise<RunningMeta> {
  const member = await MetaMember.start(opts);
  const app = metaApi(member, opts.log);
  const server = createServer(app.callback());
  server.headersTimeout = 10_000;
  server.requestTimeout = 180_000;
  const [host, port] = splitHostPort(member.file.address.api);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  opts.log.info({ api: member.file.address.api, raft: member.file.address.raft }, 'meta API listening');
  return {
    member,
    server,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await member.stop();
    },
  };
}
