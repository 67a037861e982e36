/** A binary min-heap of timed events. Ties on time are broken by insertion order (a sequence
 *  number), so two runs that schedule the same events in the same order pop them identically. */
export class EventQueue<T> {
  private times: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  push(time_s: number, item: T): void {
    if (!Number.isFinite(time_s)) throw new Error(`event time must be finite, got ${time_s}`);
    this.times.push(time_s);
    this.seqs.push(this.nextSeq++);
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  /** Time of the earliest event, or +Infinity when empty. */
  peekTime(): number {
    return this.items.length === 0 ? Infinity : this.times[0];
  }

  /** Tie-break number of the earliest event (meaningful only when size > 0). */
  peekSeq(): number {
    return this.seqs[0];
  }

  /** Takes the sequence number the next push would get, for an event kept outside the queue that
   *  must still order against queued events at the same time exactly as if it had been pushed now. */
  reserveSeq(): number {
    return this.nextSeq++;
  }

  /** Removes the earliest event; call only when size > 0. */
  pop(): T {
    const top = this.items[0];
    const last = this.items.length - 1;
    if (last > 0) this.move(last, 0);
    this.times.pop();
    this.seqs.pop();
    this.items.pop();
    if (last > 0) this.siftDown(0);
    return top;
  }

  private less(a: number, b: number): boolean {
    const ta = this.times[a];
    const tb = this.times[b];
    return ta < tb || (ta === tb && this.seqs[a] < this.seqs[b]);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.seqs[to] = this.seqs[from];
    this.items[to] = this.items[from];
  }

  private swap(a: number, b: number): void {
    const t = this.times[a];
    this.times[a] = this.times[b];
    this.times[b] = t;
    const s = this.seqs[a];
    this.seqs[a] = this.seqs[b];
    this.seqs[b] = s;
    const i = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = i;
  }

  private siftUp(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.less(child, parent)) break;
      this.swap(child, parent);
      child = parent;
    }
  }

  private siftDown(index: number): void {
    const n = this.items.length;
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      if (left >= n) break;
      const right = left + 1;
      const smallest = right < n && this.less(right, left) ? right : left;
      if (!this.less(smallest, parent)) break;
      this.swap(smallest, parent);
      parent = smallest;
    }
  }
}
