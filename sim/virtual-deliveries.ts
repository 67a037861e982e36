/** The times at which a step's token gaps would reach the router, kept off the event queue.
 *
 *  With an API latency, every engine step sends the router one `tokenGaps` notification, delivered
 *  a latency later: an event per step, as many as the steps themselves. The notification only
 *  feeds the ITL histogram, whose sum is exact and so independent of the order of recording; the
 *  fast-forwarding host records it when the step ends and keeps here only where the delivery would
 *  have sat in the event order (its time and the queue sequence number it would have got). The host
 *  passes these entries in order between real events, so the clock, the event count and the restart
 *  of the scrape timer (at the first event after a scrape) are what they were with real events.
 *
 *  One FIFO per distinct latency: step ends come in time order, so each FIFO is sorted. */
export class VirtualDeliveries {
  private readonly fifos: DeliveryFifo[] = [];
  private readonly byLatency = new Map<number, DeliveryFifo>();
  size = 0;
  /** The FIFO `nextBefore` found first, for the `shift` that follows it. */
  private named: DeliveryFifo | undefined = undefined;

  add(latency_s: number, at_s: number, seq: number): void {
    this.addTo(this.fifoFor(latency_s), latency_s, at_s, seq);
  }

  /** The FIFO of one latency, for a caller that adds to it once per step (`addTo` skips the lookup). */
  fifoFor(latency_s: number): DeliveryFifo {
    let fifo = this.byLatency.get(latency_s);
    if (fifo === undefined) {
      fifo = new DeliveryFifo();
      this.byLatency.set(latency_s, fifo);
      this.fifos.push(fifo);
    }
    return fifo;
  }

  /** `add`, with the latency's FIFO from `fifoFor`. */
  addTo(fifo: DeliveryFifo, latency_s: number, at_s: number, seq: number): void {
    fifo.push(at_s + latency_s, seq);
    this.size++;
    this.named = undefined; // it may now come first
  }

  /** The FIFO whose head comes first in (time, seq) order; call only when size > 0. */
  private first(): DeliveryFifo {
    const fifos = this.fifos;
    let best = fifos[0];
    if (fifos.length === 1) return best; // one API latency in the cluster: the common case
    for (let i = 1; i < fifos.length; i++) {
      const f = fifos[i];
      if (f.empty) continue;
      if (best.empty || f.headTime < best.headTime || (f.headTime === best.headTime && f.headSeq < best.headSeq)) best = f;
    }
    return best;
  }

  /** Time of the first delivery if it comes before a queued event at (`time_s`, `seq`) and before an
   *  arrival at `arrival_s` (arrivals win ties); NaN when none does. */
  nextBefore(arrival_s: number, time_s: number, seq: number): number {
    if (this.size === 0) return NaN;
    const f = this.first();
    this.named = f;
    const t = f.headTime;
    if (t < arrival_s && (t < time_s || (t === time_s && f.headSeq < seq))) return t;
    return NaN;
  }

  /** Drops the first delivery (the one `nextBefore` named). */
  shift(): void {
    (this.named ?? this.first()).shift();
    this.named = undefined;
    this.size--;
  }
}

/** A growable ring buffer of (time, seq) pairs: no allocation once it has grown to the number of
 *  deliveries in flight (about the API latency over the step time, times the instances). */
export class DeliveryFifo {
  private times = new Float64Array(64);
  private seqs = new Float64Array(64);
  private head = 0;
  private count = 0;

  get empty(): boolean {
    return this.count === 0;
  }

  get headTime(): number {
    return this.times[this.head];
  }

  get headSeq(): number {
    return this.seqs[this.head];
  }

  push(time_s: number, seq: number): void {
    if (this.count === this.times.length) this.grow();
    const at = (this.head + this.count) & (this.times.length - 1);
    this.times[at] = time_s;
    this.seqs[at] = seq;
    this.count++;
  }

  shift(): void {
    this.head = (this.head + 1) & (this.times.length - 1);
    this.count--;
  }

  /** Doubles the capacity (a power of two, so indices wrap with a mask), oldest entry first. */
  private grow(): void {
    const size = this.times.length;
    const times = new Float64Array(size * 2);
    const seqs = new Float64Array(size * 2);
    for (let i = 0; i < this.count; i++) {
      times[i] = this.times[(this.head + i) & (size - 1)];
      seqs[i] = this.seqs[(this.head + i) & (size - 1)];
    }
    this.times = times;
    this.seqs = seqs;
    this.head = 0;
  }
}
