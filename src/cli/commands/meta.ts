// `opera meta bootstrap|start|status|add|remove|transfer`.
import { readFile, writeFile } from 'node:fs/promises';
import { loadClusterSecrets } from '../../crypto/secrets.js';
import { join, resolve } from 'node:path';
import { Option } from 'clipanion';
import { makeLogger, stopOnSignals } from '../../common/logger.js';
import { ADMIN_TOKEN_FILE, bootstrapCluster, parseMembers, prepareMemberDir, readClusterFile } from '../../meta/bootstrap.js';
import { MetaClient } from '../../meta/client.js';
import { parsePeerRaft } from '../../meta/member-files.js';
import { startMetaServer } from '../../meta/server.js';
import { intOption, OperaCommand, UsageError } from '../base.js';

export class MetaBootstrapCommand extends OperaCommand {
  static override paths = [['meta', 'bootstrap']];
  static override usage = OperaCommand.Usage({
    description: 'Form a new meta quorum: cluster secrets, initial configuration, one directory per member',
    details: 'Refuses to run over an existing cluster. PORT is the member\'s HTTP API; its Raft port is PORT+1000 unless given as id=HOST:PORT:RAFTPORT.',
    examples: [['Three members on one host', 'opera meta bootstrap --dir ./meta --members m1=127.0.0.1:7101,m2=127.0.0.1:7102,m3=127.0.0.1:7103']],
  });
  dir = Option.String('--dir', { required: true, description: 'Directory to create the cluster in' });
  members = Option.String('--members', { required: true, description: 'id=HOST:PORT[:RAFTPORT],...' });
  partitions = Option.String('--partitions', { description: 'Partition count P (default 64)' });
  replication = Option.String('--replication', { description: 'Replication factor R (default 3)' });
  restore = Option.String('--restore', { description: 'Disaster recovery: start from this backup file (made by `opera meta backup`)' });
  secrets = Option.String('--secrets', { description: 'With --restore: the old cluster\'s secrets.json' });

  async run(): Promise<number> {
    if ((this.restore === undefined) !== (this.secrets === undefined)) throw new UsageError('--restore and --secrets go together');
    const restore = this.restore && this.secrets
      ? { backup: await readFile(resolve(this.restore)), secrets: await loadClusterSecrets(resolve(this.secrets)) }
      : undefined;
    let members;
    try {
      members = parseMembers(this.members);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const partitions = intOption(this.partitions, '--partitions', 64, 1, 65536);
    const replication = intOption(this.replication, '--replication', 3, 1, 9);
    const dir = resolve(this.dir);
    const res = await bootstrapCluster({ dir, members, partitions, replication, ...(restore ? { restore } : {}) });
    const next = res.memberDirs.map((d) => `  opera meta start --dir ${d}`).join('\n');
    this.out(
      `Bootstrapped cluster ${res.clusterId} with ${members.length} members in ${dir}\n` +
        `Admin credential: ${join(dir, ADMIN_TOKEN_FILE)} (keep it secret)\n` +
        `Next, start every member (each on its own host: copy its directory there first):\n${next}\n` +
        `Then check the quorum:\n  opera meta status --dir ${dir}`,
      { clusterId: res.clusterId, dir, members: res.memberDirs },
    );
    return 0;
  }
}

export class MetaStartCommand extends OperaCommand {
  static override paths = [['meta', 'start']];
  static override usage = OperaCommand.Usage({ description: 'Run one meta member (its Raft peer port and its HTTP API)' });
  dir = Option.String('--dir', { required: true, description: 'The member directory made by bootstrap or add' });
  noSync = Option.Boolean('--no-fsync', false, { description: 'Skip fdatasync (throwaway clusters only: loses data on power loss)' });
  peerRaft = Option.String('--peer-raft', { description: 'ID=HOST:PORT,...: dial these peers\' Raft ports here instead of their recorded addresses (NAT, test proxies); env OPERA_META_PEER_RAFT' });

  async run(): Promise<number> {
    const dir = resolve(this.dir);
    const peerRaftSpec = this.peerRaft ?? process.env['OPERA_META_PEER_RAFT'];
    let peerRaft: Map<string, string> | undefined;
    try {
      if (peerRaftSpec !== undefined) peerRaft = parsePeerRaft(peerRaftSpec);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const log = makeLogger('meta', { dir });
    // Tuning knobs for tests and small clusters; the defaults suit production.
    const env = process.env;
    const snapshotEvery = env['OPERA_META_SNAPSHOT_EVERY'] ? intOption(env['OPERA_META_SNAPSHOT_EVERY'], 'OPERA_META_SNAPSHOT_EVERY', 2000) : undefined;
    const tickMs = env['OPERA_META_TICK_MS'] ? intOption(env['OPERA_META_TICK_MS'], 'OPERA_META_TICK_MS', 50, 5, 1000) : undefined;
    const running = await startMetaServer({
      dir, log, sync: !this.noSync,
      ...(snapshotEvery !== undefined ? { snapshotEvery } : {}),
      ...(tickMs !== undefined ? { tickMs } : {}),
      ...(peerRaft !== undefined ? { peerRaft } : {}),
    });
    stopOnSignals(log, () => running.stop());
    await new Promise(() => {}); // serve until a signal
    return 0;
  }
}

/** Endpoints and credential from --endpoints/--token, the environment, or a bootstrap directory. */
abstract class MetaAdminCommand extends OperaCommand {
  dir = Option.String('--dir', { description: 'The bootstrap directory (cluster.json, admin.token)' });
  endpoints = Option.String('--endpoints', { description: 'Meta API URLs, comma-separated' });
  token = Option.String('--token', { description: 'Admin token' });

  async client(): Promise<MetaClient> {
    let endpoints = this.endpoints ?? process.env['OPERA_META_ENDPOINTS'];
    let token = this.token ?? process.env['OPERA_TOKEN'];
    if (this.dir) {
      const cluster = await readClusterFile(resolve(this.dir));
      endpoints ??= cluster.members.map((m) => `http://${m.api}`).join(',');
      token ??= (await readFile(join(resolve(this.dir), ADMIN_TOKEN_FILE), 'utf8')).trim();
    }
    if (!endpoints || !token) throw new UsageError('give --dir DIR, or --endpoints URL,... and --token T');
    return new MetaClient({ endpoints: endpoints.split(',').map((s) => s.trim()).filter(Boolean), token });
  }
}

export class MetaStatusCommand extends MetaAdminCommand {
  static override paths = [['meta', 'status']];
  static override usage = OperaCommand.Usage({ description: 'Show the meta quorum: leader, term, commit index, every member\'s role, match index and health' });

  async run(): Promise<number> {
    const client = await this.client();
    const leaderView = await client.status();
    const leaderStatus = leaderView.leader && leaderView.leader !== leaderView.id
      ? (await client.statusOf(leaderView.members.find((m) => m.id === leaderView.leader)?.url ?? '')) ?? leaderView
      : leaderView;
    const members = await Promise.all(leaderStatus.members.map(async (m) => {
      const own = m.url ? await client.statusOf(m.url) : null;
      return {
        id: m.id, url: m.url, role: own?.role === 'leader' ? 'leader' : m.role,
        matchIndex: m.matchIndex, appliedIndex: own?.appliedIndex ?? null,
        healthy: own !== null && (m.healthy ?? true),
      };
    }));
    const out = { leader: leaderStatus.leader, term: leaderStatus.term, commitIndex: leaderStatus.commitIndex, members };
    const lines = [
      `cluster ${leaderStatus.clusterId}  leader ${out.leader ?? '(none)'}  term ${out.term}  commit ${out.commitIndex}`,
      ...members.map((m) => `  ${m.id.padEnd(8)} ${m.role.padEnd(8)} ${m.healthy ? 'healthy  ' : 'UNHEALTHY'} match ${m.matchIndex ?? '-'}  applied ${m.appliedIndex ?? '-'}  ${m.url ?? ''}`),
    ];
    this.out(lines.join('\n'), out);
    return out.leader === null ? 1 : 0;
  }
}

export class MetaAddCommand extends MetaAdminCommand {
  static override paths = [['meta', 'add']];
  static override usage = OperaCommand.Usage({
    description: 'Add a meta member: prepares its directory and adds it as a learner; it is promoted to voter once caught up',
    examples: [['A fourth member', 'opera meta add --dir ./meta --id m4 --member 127.0.0.1:7104']],
  });
  id = Option.String('--id', { required: true });
  member = Option.String('--member', { required: true, description: 'HOST:PORT[:RAFTPORT] of the new member' });

  async run(): Promise<number> {
    if (!this.dir) throw new UsageError('meta add needs --dir (the bootstrap directory holds the secrets for the new member)');
    const [spec] = (() => {
      try {
        return parseMembers(`${this.id}=${this.member}`);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    })();
    const client = await this.client();
    const status = await client.status();
    const known = status.members
      .filter((m) => m.url && m.raft)
      .map((m) => ({ id: m.id, api: new URL(m.url!).host, raft: m.raft! }));
    const mdir = await prepareMemberDir(resolve(this.dir), spec!, known);
    await client.members('add', { id: spec!.id, api: spec!.api, raft: spec!.raft });
    this.out(`Added ${spec!.id} as a learner. Start it (on its host) with:\n  opera meta start --dir ${mdir}\nIt becomes a voter once it has caught up.`, { id: spec!.id, dir: mdir });
    return 0;
  }
}

export class MetaBackupCommand extends MetaAdminCommand {
  static override paths = [['meta', 'backup']];
  static override usage = OperaCommand.Usage({
    description: 'Write a consistent copy of the meta state to a file (restore it with `opera meta bootstrap --restore`)',
  });
  outFile = Option.String('--out', { required: true, description: 'File to write' });

  async run(): Promise<number> {
    const client = await this.client();
    const backup = await client.backup();
    await writeFile(resolve(this.outFile), backup, { mode: 0o600 });
    this.out(`Wrote ${backup.byteLength} bytes to ${resolve(this.outFile)}`, { file: resolve(this.outFile), bytes: backup.byteLength });
    return 0;
  }
}

export class MetaRemoveCommand extends MetaAdminCommand {
  static override paths = [['meta', 'remove']];
  static override usage = OperaCommand.Usage({ description: 'Remove a meta member from the group (one at a time)' });
  id = Option.String('--id', { required: true });

  async run(): Promise<number> {
    const client = await this.client();
    await client.members('remove', { id: this.id });
    this.out(`Removed ${this.id}; stop its process and archive its directory.`, { removed: this.id });
    return 0;
  }
}

export class MetaTransferCommand extends MetaAdminCommand {
  static override paths = [['meta', 'transfer']];
  static override usage = OperaCommand.Usage({ description: 'Move meta leadership to another voter' });
  to = Option.String('--to', { required: true });

  async run(): Promise<number> {
    const client = await this.client();
    await client.members('transfer', { id: this.to });
    this.out(`Leadership transfer to ${this.to} started.`, { transferTo: this.to });
    return 0;
  }
}

export const metaCommands = [MetaBootstrapCommand, MetaStartCommand, MetaStatusCommand, MetaAddCommand, MetaRemoveCommand, MetaTransferCommand, MetaBackupCommand];
