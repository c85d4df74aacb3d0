// The console's entry point: sign in with a token (checked by GET /v1/whoami, kept in
// this tab's sessionStorage), then the views, fed by the gateway's live event stream.
import { Api, ApiFailure } from './api.js';
import { ChartsView } from './charts.js';
import { DataView } from './data.js';
import { fill, h } from './dom.js';
import { clock } from './format.js';
import { renderNetwork } from './network.js';
import { PartitionsView } from './partitions.js';
import { renderPlans } from './plans.js';
import type { ConsoleView, Whoami } from './types.js';

const TOKEN_KEY = 'opera-console-token';
const TABS = ['network', 'partitions', 'plans', 'data', 'charts'] as const;
type Tab = (typeof TABS)[number];

const app = document.getElementById('app')!;
const live = document.getElementById('live')!;
const who = document.getElementById('who')!;
const signOutButton = document.getElementById('sign-out') as HTMLButtonElement;

function signInForm(message: string | null): void {
  live.hidden = true;
  who.hidden = true;
  signOutButton.hidden = true;
  const token = h('input', { id: 'token', type: 'password', autocomplete: 'off', placeholder: 'opera1....', required: true });
  const form = h('form', { id: 'sign-in', class: 'panel sign-in' },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'Paste a client or admin token (opera token create --role client, or the token opera dev printed).'),
    h('label', { for: 'token' }, 'Token'), token,
    h('button', { type: 'submit' }, 'Sign in'),
    message ? h('p', { class: 'error', id: 'sign-in-error' }, message) : null,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn(token.value.trim());
  });
  fill(app, form);
  token.focus();
}

async function signIn(token: string): Promise<void> {
  const api = new Api(token);
  try {
    const me = await api.json<Whoami>('/v1/whoami');
    sessionStorage.setItem(TOKEN_KEY, token);
    start(api, me);
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    signInForm(err instanceof ApiFailure ? err.toString() : `cannot reach the gateway: ${String(err)}`);
  }
}

function start(api: Api, me: Whoami): void {
  const stop = new AbortController();
  who.textContent = `${me.sub} (${me.role})`;
  who.hidden = false;
  signOutButton.hidden = false;
  signOutButton.onclick = () => {
    stop.abort();
    sessionStorage.removeItem(TOKEN_KEY);
    signInForm(null);
  };

  const pane = (t: Tab): HTMLElement => h('div', { class: 'pane', id: `pane-${t}`, hidden: true });
  const panes: Record<Tab, HTMLElement> = { network: pane('network'), partitions: pane('partitions'), plans: pane('plans'), data: pane('data'), charts: pane('charts') };
  const buttons = TABS.map((t) => {
    const b = h('button', { type: 'button', class: 'tab', id: `tab-${t}`, 'data-tab': t }, t[0]!.toUpperCase() + t.slice(1));
    b.addEventListener('click', () => show(t));
    return b;
  });
  const partitions = new PartitionsView();
  const charts = new ChartsView();
  const data = new DataView(api);
  panes.data.appendChild(data.root);
  let current: Tab = TABS.includes(location.hash.slice(1) as Tab) ? (location.hash.slice(1) as Tab) : 'network';
  let latest: ConsoleView | null = null;

  const draw = (): void => {
    if (latest === null) return;
    if (current === 'network') renderNetwork(panes.network, latest);
    else if (current === 'partitions') partitions.render(panes.partitions, latest);
    else if (current === 'plans') renderPlans(panes.plans, latest);
    else if (current === 'charts') charts.render(panes.charts, latest);
  };
  function show(tab: Tab): void {
    current = tab;
    history.replaceState(null, '', `#${tab}`);
    for (const t of TABS) panes[t].hidden = t !== tab;
    for (const b of buttons) b.classList.toggle('active', b.dataset['tab'] === tab);
    draw();
  }

  for (const t of TABS.filter((x) => x !== 'data')) fill(panes[t], h('p', { class: 'muted' }, 'Waiting for the first view of the cluster…'));
  fill(app, h('nav', { class: 'tabs' }, ...buttons), ...TABS.map((t) => panes[t]));
  show(current);

  live.hidden = false;
  live.textContent = 'connecting…';
  live.className = 'live';
  void api.follow(
    (view) => {
      latest = view;
      charts.absorb(view);
      live.textContent = `live · ${clock(view.at)}`;
      live.className = 'live on';
      draw();
    },
    (on, error) => {
      if (!on) {
        live.textContent = `reconnecting${error ? ` (${error})` : ''}`;
        live.className = 'live off';
      }
    },
    stop.signal,
  ).catch((err) => {
    // The credential was refused (revoked or expired): back to signing in.
    sessionStorage.removeItem(TOKEN_KEY);
    signInForm(err instanceof ApiFailure ? err.toString() : String(err));
  });
}

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
else signInForm(null);
