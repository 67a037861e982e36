import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SampleSeries, SampleSeriesFactory } from "../../src/metrics/float-series.ts";

/** Values kept in memory before they go to the file: 64 KiB, one write per 8,192 calls. */
const BUFFER_VALUES = 8192;

/** The report's exact percentiles need every call's TTFT, TPOT, E2E and queue time (and each
 *  workflow's makespan and slowdown): 48 bytes a call, which a gateway serving 1,000 calls a second
 *  for a day would hold as 4 GiB. The gateway keeps them in files instead (raw float64, appended
 *  8,192 at a time) and reads them back only when a report is made, so its memory stays flat while
 *  the report stays exact and identical to what in-memory series give. The folder is made on the
 *  first spill (a short run never touches the disk) and removed by `close`. */
export class SampleSpill {
  private dir: string | undefined;
  private readonly series: SpilledSeries[] = [];

  readonly factory: SampleSeriesFactory = (name) => {
    const series = new SpilledSeries(() => join(this.folder(), `${name}-${this.series.length}.f64`));
    this.series.push(series);
    return series;
  };

  private folder(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), "tandem-gateway-samples-"));
    return this.dir;
  }

  /** Closes the files and removes the folder; the series must not be used afterwards. */
  close(): void {
    for (const s of this.series) s.close();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

class SpilledSeries implements SampleSeries {
  private readonly buffer = new Float64Array(BUFFER_VALUES);
  private buffered = 0;
  private spilled = 0;
  private fd: number | undefined;

  constructor(private readonly path: () => string) {}

  get length(): number {
    return this.spilled + this.buffered;
  }

  push(value: number): void {
    if (this.buffered === BUFFER_VALUES) this.flush();
    this.buffer[this.buffered++] = value;
  }

  sortedCopy(): Float64Array {
    const all = new Float64Array(this.length);
    if (this.spilled > 0) {
      const bytes = new Uint8Array(all.buffer, 0, this.spilled * 8);
      let at = 0;
      while (at < bytes.length) at += readSync(this.fd!, bytes, at, bytes.length - at, at);
    }
    all.set(this.buffer.subarray(0, this.buffered), this.spilled);
    return all.sort();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private flush(): void {
    this.fd ??= openSync(this.path(), "w+");
    const bytes = new Uint8Array(this.buffer.buffer, 0, this.buffered * 8);
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at, this.spilled * 8 + at);
    this.spilled += this.buffered;
    this.buffered = 0;
  }
}
