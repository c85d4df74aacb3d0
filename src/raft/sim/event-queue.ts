// A binary heap of timed events; ties run in insertion order so runs are reproducible.
interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;

  size(): number {
    return this.heap.length;
  }

  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }

  push(time: number, fn: () => void): void {
    const h = this.heap;
    h.push({ time, seq: this.seq++, fn });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }
}
