// The WGL entry list: every operation contributes a call entry and a return entry,
// sorted by time into a doubly linked list. Linearizing an operation "lifts" both its
// entries out of the list; backtracking "unlifts" them back into the same places.

export interface Entry {
  readonly isCall: boolean;
  /** Index of the operation in the array the list was built from. */
  readonly op: number;
  readonly time: number;
  /** For a call entry, its return entry. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

interface Span {
  readonly call: number;
  readonly ret: number;
}

/**
 * Builds the list and returns its head, a sentinel before the first entry. At equal
 * times calls sort before returns: touching intervals count as concurrent, which can only
 * make the checker more lenient, never report a false violation.
 */
export function buildEntries(ops: readonly Span[]): Entry {
  const all: Entry[] = [];
  ops.forEach((o, op) => {
    if (!Number.isFinite(o.call)) throw new Error(`operation ${op} has a non-finite call time ${o.call}`);
    if (!(o.ret >= o.call)) throw new Error(`operation ${op} returns (${o.ret}) before its call (${o.call})`);
    const ret: Entry = { isCall: false, op, time: o.ret, match: null, prev: null, next: null };
    all.push({ isCall: true, op, time: o.call, match: ret, prev: null, next: null }, ret);
  });
  all.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? -1 : 1;
    if (a.isCall !== b.isCall) return a.isCall ? -1 : 1;
    return a.op - b.op;
  });
  const head: Entry = { isCall: false, op: -1, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const e of all) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function unlink(e: Entry): void {
  const prev = e.prev;
  if (prev === null) throw new Error('cannot unlink the head of the entry list');
  prev.next = e.next;
  if (e.next !== null) e.next.prev = prev;
}

function relink(e: Entry): void {
  const prev = e.prev;
  if (prev === null) throw new Error('cannot relink the head of the entry list');
  prev.next = e;
  if (e.next !== null) e.next.prev = e;
}

/** Takes a call entry and its return entry out of the list. */
export function lift(call: Entry): void {
  const ret = call.match;
  if (!call.isCall || ret === null) throw new Error('only a call entry can be lifted');
  unlink(call);
  unlink(ret);
}

/** Undoes the matching lift(); lifts and unlifts must nest like a stack. */
export function unlift(call: Entry): void {
  const ret = call.match;
  if (!call.isCall || ret === null) throw new Error('only a call entry can be unlifted');
  relink(ret);
  relink(call);
}
