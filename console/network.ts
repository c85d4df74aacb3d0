// The network view: meta members, storage nodes (state, zone, what they store, their
// partitions), and what the sentinels see.
import { fill, h } from './dom.js';
import { ago, bytes, number } from './format.js';
import type { ConsoleNode, ConsoleView } from './types.js';

function badge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state}` }, state);
}

function metaSection(v: ConsoleView): HTMLElement {
  const m = v.meta;
  return h('section', { class: 'panel', id: 'meta' },
    h('h2', {}, 'Meta members'),
    m.error ? h('p', { class: 'error' }, m.error) : null,
    h('dl', { class: 'facts' },
      h('dt', {}, 'leader'), h('dd', { id: 'meta-leader' }, m.leader ?? 'none'),
      h('dt', {}, 'term'), h('dd', {}, number(m.term)),
      h('dt', {}, 'commit index'), h('dd', {}, number(m.commitIndex)),
      h('dt', {}, 'applied'), h('dd', {}, number(m.appliedIndex)),
      h('dt', {}, 'map version'), h('dd', {}, number(v.mapVersion)),
      h('dt', {}, 'answered by'), h('dd', {}, m.answeredBy ?? '–'),
    ),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'member'), h('th', {}, 'role'), h('th', {}, 'health'), h('th', {}, 'match index'), h('th', {}, 'url'))),
      h('tbody', {}, ...m.members.map((x) => h('tr', { 'data-member': x.id },
        h('td', {}, x.id),
        h('td', {}, badge(x.role)),
        h('td', {}, x.healthy === null ? 'unknown' : badge(x.healthy ? 'healthy' : 'unhealthy')),
        h('td', {}, number(x.matchIndex)),
        h('td', { class: 'mono' }, x.url ?? '–'),
      ))),
    ),
  );
}

function usage(n: ConsoleNode, total: number): HTMLElement {
  const stored = n.stats?.storedBytes ?? null;
  const bar = h('span', { class: 'bar' }, h('span', { class: 'bar-fill' }));
  // Width through the CSSOM: the CSP allows no inline style attributes.
  (bar.firstChild as HTMLElement).style.width = `${total > 0 && stored !== null ? Math.round((stored / total) * 100) : 0}%`;
  return h('span', { class: 'usage' }, bar, ` ${bytes(stored)}`, n.stats?.storedObjects != null ? ` · ${n.stats.storedObjects} objects` : '');
}

function sentinelCell(n: ConsoleNode, now: number): HTMLElement {
  if (n.sentinels.length === 0) return h('span', { class: 'muted' }, '–');
  return h('span', {}, ...n.sentinels.map((o) => h('span', { class: 'obs', title: `${o.sentinelId}, ${ago(o.atMs, now)}` }, `${o.sentinelId}: `, badge(o.state))));
}

function nodesSection(v: ConsoleView): HTMLElement {
  const total = v.nodes.reduce((s, n) => s + (n.stats?.storedBytes ?? 0), 0);
  return h('section', { class: 'panel', id: 'nodes' },
    h('h2', {}, `Storage nodes (${v.nodes.filter((n) => n.state === 'up').length} of ${v.nodes.length} up)`),
    h('table', {},
      h('thead', {}, h('tr', {},
        h('th', {}, 'node'), h('th', {}, 'state'), h('th', {}, 'zone'), h('th', {}, 'weight'), h('th', {}, 'stored (share of cluster)'),
        h('th', {}, 'primary'), h('th', {}, 'replica'), h('th', {}, 'learner'), h('th', {}, 'repl. lag'), h('th', {}, 'last heartbeat'), h('th', {}, 'sentinels'),
      )),
      h('tbody', {}, ...v.nodes.map((n) => h('tr', { 'data-node': n.id, 'data-state': n.state },
        h('td', { title: n.url }, n.id),
        h('td', {}, badge(n.state), h('span', { class: 'muted' }, ` ${ago(n.since, v.at)}`)),
        h('td', {}, n.zone ?? '–'),
        h('td', {}, n.capacity),
        h('td', {}, n.stats?.reachable === false ? h('span', { class: 'muted' }, 'unreachable') : usage(n, total)),
        h('td', {}, n.partitions.primary),
        h('td', {}, n.partitions.replica),
        h('td', {}, n.partitions.learner),
        h('td', {}, number(n.stats?.replicationLag)),
        h('td', {}, ago(n.lastHeartbeat, v.at)),
        h('td', {}, sentinelCell(n, v.at)),
      ))),
    ),
  );
}

function sentinelSection(v: ConsoleView): HTMLElement {
  const changing = v.nodes.filter((n) => n.state === 'suspect' || n.state === 'down');
  return h('section', { class: 'panel', id: 'sentinel' },
    h('h2', {}, 'Sentinels'),
    h('p', {}, changing.length === 0
      ? 'Meta holds every node up: the sentinels report no failure.'
      : `Reported by the sentinels and committed in meta: ${changing.map((n) => `${n.id} ${n.state}`).join(', ')}.`),
    h('p', { class: 'muted' }, v.sentinelsVisible
      ? 'Each sentinel\'s own current view of every node is in the nodes table (shared through the LiveStore).'
      : 'No sentinel shares its observations with this gateway (they do through a shared Redis LiveStore); the states above are what the sentinels reported to meta.'),
  );
}

export function renderNetwork(root: HTMLElement, v: ConsoleView): void {
  const up = v.partitions.filter((p) => p.health === 'replicated').length;
  fill(root,
    v.error ? h('p', { class: 'error' }, v.error) : null,
    h('div', { class: 'summary' },
      h('span', {}, `cluster ${v.clusterId ?? '–'}`),
      h('span', {}, `${v.partitions.length} partitions, ${up} fully replicated`),
      h('span', {}, `replication ${v.settings?.replication ?? '–'}, min in-sync ${v.settings?.minInsync ?? '–'}`),
      h('span', {}, `${v.plans.filter((p) => p.state === 'active').length} active plans`),
    ),
    metaSection(v),
    nodesSection(v),
    sentinelSection(v),
  );
}
