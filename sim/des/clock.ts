/** The simulator's virtual clock: it only moves forward, and only when the host pops an event. */
export class VirtualClock {
  private current_s = 0;

  get now_s(): number {
    return this.current_s;
  }

  advanceTo(time_s: number): void {
    if (time_s < this.current_s) {
      throw new Error(`virtual clock would go backwards: ${time_s} < ${this.current_s}`);
    }
    this.current_s = time_s;
  }
}
