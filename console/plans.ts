// Re-replication and rebalancing plans, newest first: progress, bytes moved, ETA, reason,
// and every move.
import { fill, h } from './dom.js';
import { bytes, clock, duration } from './format.js';
import type { ConsoleView, Plan } from './types.js';

const REASONS: Record<Plan['reason'], string> = {
  'node-down': 'a node went down', 'node-join': 'a node joined', 'node-remove': 'a node was removed',
  'node-up': 'a node came back to partitions left below R', rebalance: 'operator rebalance',
};

function progressBar(fraction: number): HTMLElement {
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(fraction * 100) }, h('div', { class: 'progress-fill' }));
  (bar.firstChild as HTMLElement).style.width = `${Math.round(fraction * 100)}%`;
  return bar;
}

function status(p: Plan, now: number): string {
  if (p.state !== 'active') return p.state;
  if (p.notBefore > now) return `waiting for the repair grace period (${duration(p.notBefore - now)} left)`;
  if (p.eta) return `ETA ${duration(p.eta.seconds * 1000)} (${clock(p.eta.at)}) at ${bytes(p.eta.bytesPerSecond)}/s`;
  return 'copying; ETA once bytes have moved';
}

function planCard(p: Plan, now: number): HTMLElement {
  const pr = p.progress;
  const fraction = pr.bytesTotal > 0 ? pr.bytesDone / pr.bytesTotal : pr.movesTotal > 0 ? pr.movesDone / pr.movesTotal : 1;
  return h('article', { class: `plan plan-${p.state}`, 'data-plan': p.id, 'data-state': p.state },
    h('header', {},
      h('strong', {}, p.id), ' ', h('span', { class: `badge plan-state-${p.state}` }, p.state), ' ',
      h('span', {}, `${REASONS[p.reason]}${p.node ? ` (${p.node})` : ''}`),
      h('span', { class: 'muted' }, ` · created ${clock(p.created)}`),
    ),
    progressBar(p.state === 'done' ? 1 : fraction),
    h('p', {}, `${pr.movesDone} of ${pr.movesTotal} moves done · ${bytes(pr.bytesDone)} of ${bytes(pr.bytesTotal)} moved · ${status(p, now)}`),
    h('details', {},
      h('summary', {}, 'moves'),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, 'partition'), h('th', {}, 'from'), h('th', {}, 'to'), h('th', {}, 'state'), h('th', {}, 'bytes'))),
        h('tbody', {}, ...p.moves.map((m) => h('tr', {},
          h('td', {}, m.partition), h('td', {}, m.source ?? '(new)'), h('td', {}, m.target),
          h('td', {}, h('span', { class: `badge move-${m.state}` }, m.state)), h('td', {}, `${bytes(m.bytesDone)} / ${bytes(m.bytesTotal)}`),
        ))),
      ),
    ),
  );
}

export function renderPlans(root: HTMLElement, v: ConsoleView): void {
  const active = v.plans.filter((p) => p.state === 'active');
  const past = v.plans.filter((p) => p.state !== 'active');
  fill(root,
    h('section', { class: 'panel', id: 'plans-running' },
      h('h2', {}, `Running plans (${active.length})`),
      active.length === 0 ? h('p', { class: 'muted' }, 'Nothing is being copied.') : null,
      ...active.map((p) => planCard(p, v.at)),
    ),
    h('section', { class: 'panel', id: 'plans-past' },
      h('h2', {}, `Past plans (${past.length})`),
      past.length === 0 ? h('p', { class: 'muted' }, 'No plan has finished yet.') : null,
      ...past.map((p) => planCard(p, v.at)),
    ),
  );
}
