// The simulator's nemesis: one fault change per step, drawn from the seed — partitions
// (symmetric, one-way, leader isolation, bridge, flapping), lossy and reordering links,
// crashes and restarts, membership changes and leadership transfers.
import { ProposalError } from '../errors.js';
import { TICK_MS, type SimMember, type World } from './world.js';

export type FaultKind =
  | 'heal' | 'split' | 'isolate-leader' | 'one-way' | 'bridge' | 'flap' | 'lossy'
  | 'crash' | 'crash-leader' | 'restart-all' | 'add-member' | 'remove-member' | 'transfer';

const KINDS: FaultKind[] = [
  'heal', 'split', 'isolate-leader', 'one-way', 'bridge', 'flap', 'lossy',
  'crash', 'crash-leader', 'restart-all', 'add-member', 'remove-member', 'transfer',
];

export class Nemesis {
  readonly log: string[] = [];
  private learners = new Set<string>();

  constructor(private readonly world: World) {}

  private ids(): string[] {
    return [...this.world.members.values()].filter((m) => !m.retired).map((m) => m.id);
  }

  private note(what: string): void {
    this.log.push(`${this.world.now}ms ${what}`);
  }

  step(): void {
    const w = this.world;
    const kind = w.rng.pick(KINDS);
    const ids = w.rng.shuffle(this.ids());
    switch (kind) {
      case 'heal':
        w.net.heal();
        for (const m of w.members.values()) w.restart(m);
        return this.note('heal');
      case 'split': {
        const cut = w.rng.int(1, Math.max(2, Math.floor(ids.length / 2) + 1));
        w.net.partition([ids.slice(0, cut), ids.slice(cut)]);
        return this.note(`split ${ids.slice(0, cut)} | ${ids.slice(cut)}`);
      }
      case 'isolate-leader': {
        const l = w.leader();
        if (!l) return;
        w.net.partition([[l.id], ids.filter((i) => i !== l.id)]);
        return this.note(`isolate leader ${l.id}`);
      }
      case 'one-way': {
        const [a, b] = ids;
        if (!a || !b) return;
        w.net.cutOneWay(a, b);
        return this.note(`cut ${a} -> ${b}`);
      }
      case 'bridge': {
        const [bridge, ...rest] = ids;
        if (!bridge || rest.length < 2) return;
        const half = Math.floor(rest.length / 2);
        w.net.partition([rest.slice(0, half), rest.slice(half)]);
        return this.note(`bridge ${bridge} between ${rest.slice(0, half)} and ${rest.slice(half)}`);
      }
      case 'flap':
        return this.flap(ids, w.rng.int(3, 8));
      case 'lossy':
        w.net.faults = {
          loss: w.rng.next() * 0.3,
          duplicate: w.rng.next() * 0.2,
          minDelayMs: 1,
          maxDelayMs: w.rng.int(5, 60),
        };
        return this.note(`lossy ${JSON.stringify(w.net.faults)}`);
      case 'crash': {
        const alive = w.liveMembers();
        const n = w.rng.int(1, Math.max(2, Math.ceil(alive.length / 2)));
        for (const m of w.rng.shuffle(alive).slice(0, n)) this.crashFor(m);
        return;
      }
      case 'crash-leader': {
        const l = w.leader();
        if (l) this.crashFor(l);
        return;
      }
      case 'restart-all':
        for (const m of w.liveMembers()) w.crash(m);
        for (const m of w.members.values()) w.restart(m);
        return this.note('restart all');
      case 'add-member':
        return this.addMember();
      case 'remove-member':
        return this.removeMember();
      case 'transfer': {
        const l = w.leader();
        if (!l) return;
        const to = w.rng.pick(l.core.config.voters);
        try {
          l.core.transferLeadership(to);
          w.process(l);
          this.note(`transfer ${l.id} -> ${to}`);
        } catch (err) {
          if (!(err instanceof ProposalError)) throw err;
        }
        return;
      }
    }
  }

  /** Partitions shorter than an election timeout, on and off. */
  private flap(ids: string[], times: number): void {
    const w = this.world;
    this.note(`flap x${times}`);
    let at = w.now;
    for (let i = 0; i < times; i++) {
      const cut = w.rng.int(1, ids.length);
      const groups = [ids.slice(0, cut), ids.slice(cut)];
      w.queue.push(at, () => w.net.partition(groups));
      at += w.rng.int(2, 8) * TICK_MS;
      w.queue.push(at, () => w.net.heal());
      at += w.rng.int(2, 8) * TICK_MS;
    }
  }

  private crashFor(m: SimMember): void {
    const w = this.world;
    w.crash(m);
    const down = w.rng.int(50, 1500);
    this.note(`crash ${m.id} for ${down}ms`);
    w.queue.push(w.now + down, () => w.restart(m));
  }

  private addMember(): void {
    const w = this.world;
    const l = w.leader();
    if (!l || l.core.config.learners.length > 0) return;
    const id = `m${w.nextId}`;
    try {
      l.core.proposeConfigChange({ op: 'add-learner', id });
    } catch (err) {
      if (!(err instanceof ProposalError)) throw err;
      return;
    }
    w.nextId++;
    // A new member starts empty, knowing no configuration: it waits for the leader.
    w.addMember(id, { voters: [], learners: [] });
    this.learners.add(id);
    w.process(l);
    this.note(`add learner ${id}`);
  }

  /** Promotes learners once the leader sees them caught up. Called every tick batch. */
  promoteCaughtUp(): void {
    const w = this.world;
    const l = w.leader();
    if (!l) return;
    for (const id of l.core.config.learners) {
      if (!l.core.isCaughtUp(id)) continue;
      try {
        l.core.proposeConfigChange({ op: 'promote', id });
        w.process(l);
        this.note(`promote ${id}`);
      } catch (err) {
        if (!(err instanceof ProposalError)) throw err;
      }
      return;
    }
  }

  private removeMember(): void {
    const w = this.world;
    const l = w.leader();
    if (!l) return;
    const voters = l.core.config.voters;
    if (voters.length <= w.opts.members) return; // keep the group at least its original size
    const id = w.rng.pick(voters);
    try {
      l.core.proposeConfigChange({ op: 'remove', id });
      w.process(l);
      this.note(`remove ${id}${id === l.id ? ' (the leader)' : ''}`);
    } catch (err) {
      if (!(err instanceof ProposalError)) throw err;
    }
  }
}
