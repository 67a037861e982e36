/** Min-heap of items by (rank, seq): the waiting queue at the controller. */
export class RankedQueue<T extends { readonly seq: number }> {
  private items: T[] = [];
  private ranks: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: T, rank: number): void {
    this.items.push(item);
    this.ranks.push(rank);
    this.siftUp(this.items.length - 1);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    const top = this.items[0];
    const lastItem = this.items.pop()!;
    const lastRank = this.ranks.pop()!;
    if (this.items.length > 0) {
      this.items[0] = lastItem;
      this.ranks[0] = lastRank;
      this.siftDown(0);
    }
    return top;
  }

  /** Every item with its rank, in the order pop would return them (a copy; for inspection). */
  ordered(): { item: T; rank: number }[] {
    return this.items.map((item, i) => ({ item, rank: this.ranks[i] })).sort((a, b) => a.rank - b.rank || a.item.seq - b.item.seq);
  }

  /** Recomputes every rank (for policies whose order changes while calls wait) and re-heapifies. */
  rerank(rankOf: (item: T) => number): void {
    for (let i = 0; i < this.items.length; i++) this.ranks[i] = rankOf(this.items[i]);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** Removes every item matching `predicate`; returns them in queue order. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const kept: T[] = [];
    const keptRanks: number[] = [];
    const removed: T[] = [];
    for (let i = 0; i < this.items.length; i++) {
      if (predicate(this.items[i])) removed.push(this.items[i]);
      else {
        kept.push(this.items[i]);
        keptRanks.push(this.ranks[i]);
      }
    }
    this.items = kept;
    this.ranks = keptRanks;
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    return removed.sort((a, b) => a.seq - b.seq);
  }

  private less(a: number, b: number): boolean {
    return this.ranks[a] < this.ranks[b] || (this.ranks[a] === this.ranks[b] && this.items[a].seq < this.items[b].seq);
  }

  private swap(a: number, b: number): void {
    const item = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = item;
    const rank = this.ranks[a];
    this.ranks[a] = this.ranks[b];
    this.ranks[b] = rank;
  }

  private siftUp(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(index, parent)) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(right, left) ? right : left;
      if (!this.less(child, index)) return;
      this.swap(child, index);
      index = child;
    }
  }
}
