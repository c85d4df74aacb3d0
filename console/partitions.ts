// The partitions grid: one cell per partition colored by health; hovering shows the
// epoch and replicas, clicking pins them in the details panel.
import { fill, h } from './dom.js';
import type { ConsoleView, PartitionCell } from './types.js';

const LEGEND: readonly [PartitionCell['health'], string][] = [
  ['replicated', 'fully replicated'], ['under-replicated', 'under-replicated'], ['moving', 'moving (a copy under way)'], ['unavailable', 'no live replica'],
];

function describe(p: PartitionCell): string {
  return `partition ${p.partition} · epoch ${p.epoch} · primary ${p.primary ?? 'none'} · replicas ${p.replicas.join(', ') || 'none'}`
    + (p.learners.length > 0 ? ` · learners ${p.learners.join(', ')}` : '') + ` · ${p.health}`;
}

function details(p: PartitionCell | undefined): HTMLElement {
  if (p === undefined) return h('p', { class: 'muted' }, 'Click a partition for its epoch and replicas.');
  return h('dl', { class: 'facts' },
    h('dt', {}, 'partition'), h('dd', {}, p.partition),
    h('dt', {}, 'health'), h('dd', {}, h('span', { class: `badge health-${p.health}` }, p.health)),
    h('dt', {}, 'epoch'), h('dd', {}, p.epoch),
    h('dt', {}, 'primary'), h('dd', {}, p.primary ?? 'none'),
    h('dt', {}, 'replicas'), h('dd', {}, p.replicas.join(', ') || 'none'),
    h('dt', {}, 'learners'), h('dd', {}, p.learners.join(', ') || 'none'),
  );
}

export class PartitionsView {
  #selected: number | null = null;

  render(root: HTMLElement, v: ConsoleView): void {
    const panel = h('div', { class: 'details', id: 'partition-details' }, details(v.partitions.find((p) => p.partition === this.#selected)));
    const grid = h('div', { class: 'grid', id: 'partition-grid' }, ...v.partitions.map((p) => {
      const cell = h('button', {
        type: 'button', class: `cell health-${p.health}${p.partition === this.#selected ? ' selected' : ''}`,
        'data-partition': p.partition, 'data-health': p.health, title: describe(p), 'aria-label': describe(p),
      }, p.partition);
      cell.addEventListener('click', () => {
        this.#selected = p.partition;
        fill(panel, details(p));
        for (const c of grid.querySelectorAll('.cell')) c.classList.toggle('selected', c === cell);
      });
      return cell;
    }));
    const counts = (health: PartitionCell['health']): number => v.partitions.filter((p) => p.health === health).length;
    fill(root,
      h('section', { class: 'panel' },
        h('h2', {}, `Partitions (${v.partitions.length}, map version ${v.mapVersion ?? '–'})`),
        h('div', { class: 'legend' }, ...LEGEND.map(([health, label]) => h('span', {}, h('span', { class: `swatch health-${health}` }), ` ${label} (${counts(health)})`))),
        grid,
        panel,
      ),
    );
  }
}
