// `opera dev`: run a whole cluster on this machine with one command.
import { resolve } from 'node:path';
import { Option } from 'clipanion';
import { startDevCluster } from '../../dev/cluster.js';
import { writeCredentialsFile } from '../credentials.js';
import { intOption, OperaCommand } from '../base.js';

export class DevCommand extends OperaCommand {
  static override paths = [['dev']];
  static override usage = OperaCommand.Usage({
    description: 'Run a local cluster: 3 meta members, a gateway, storage nodes and a sentinel, as child processes',
    details: 'Everything binds 127.0.0.1 on free ports. Credentials are written so that `opera put/get/ls` work from this shell. Started again on the same --dir it resumes the same cluster with its data. Ctrl-C stops every child.',
    examples: [['Start', 'opera dev'], ['Five nodes, machine-readable', 'opera dev --nodes 5 --json']],
  });
  dir = Option.String('--dir', '.opera/dev', { description: 'Where the cluster keeps its data (default .opera/dev)' });
  nodes = Option.String('--nodes', { description: 'Storage nodes (default 3)' });

  async run(): Promise<number> {
    const nodes = intOption(this.nodes, '--nodes', 3, 1, 16);
    const dir = resolve(this.dir);
    if (!this.json) this.context.stdout.write(`Starting a local cluster in ${dir} ...\n`);
    const cluster = await startDevCluster({ dir, nodes });
    const file = await writeCredentialsFile({ gateway: cluster.gateway, token: cluster.token });
    const processes = cluster.processes.map((p) => ({ role: p.role, id: p.id, pid: p.child.pid ?? null, url: p.url }));
    if (this.json) {
      this.context.stdout.write(JSON.stringify({ gateway: cluster.gateway, console: cluster.console, token: cluster.token, dir, processes }) + '\n');
    } else {
      const lines = [
        `Space Opera is running.`,
        `  gateway      ${cluster.gateway}`,
        `  console      ${cluster.console}  (sign in with the token: ${cluster.token})`,
        ...processes.map((p) => `  ${p.role.padEnd(8)} ${p.id.padEnd(8)} pid ${String(p.pid).padEnd(7)} ${p.url}`),
        `  logs         ${dir}/logs/`,
        `Credentials written to ${file}; try:`,
        `  npx opera put sol/earth ./earth.json`,
        `  npx opera ls sol/`,
        `Press Ctrl-C to stop.`,
      ];
      this.context.stdout.write(lines.join('\n') + '\n');
    }
    cluster.supervisor.onExit = (p, code, signal) => {
      this.context.stderr.write(`opera dev: ${p.role} ${p.id} exited (${signal ?? `code ${code}`}); see ${p.log}\n`);
    };
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        if (!this.json) this.context.stdout.write('Stopping ...\n');
        cluster.supervisor.stop().then(done, done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  }
}

export const devCommands = [DevCommand];
