import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FloatSeries } from "../../src/metrics/float-series.ts";
import { SampleSpill } from "../../live/gateway/spilled-series.ts";

const spillDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith("tandem-gateway-samples-"));

describe("the gateway's spilled sample series", () => {
  it("gives the same sorted values as an in-memory series, across spills and reads in between", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { maxLength: 30_000 }), fc.array(fc.nat(30_000), { maxLength: 4 }), (values, readAt) => {
        const spill = new SampleSpill();
        const spilled = spill.factory("e2e_s");
        const memory = new FloatSeries();
        try {
          values.forEach((v, i) => {
            spilled.push(v);
            memory.push(v);
            if (readAt.includes(i)) expect(spilled.sortedCopy()).toEqual(memory.sortedCopy());
          });
          expect(spilled.length).toBe(values.length);
          expect(spilled.sortedCopy()).toEqual(memory.sortedCopy());
        } finally {
          spill.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it("touches the disk only once a series outgrows its buffer, and removes its folder on close", () => {
    const before = new Set(spillDirs());
    const spill = new SampleSpill();
    const a = spill.factory("ttft_s");
    for (let i = 0; i < 8192; i++) a.push(i);
    expect(spillDirs().filter((d) => !before.has(d))).toEqual([]);
    a.push(8192); // the 8,193rd value sends the first 8,192 to a file
    const made = spillDirs().filter((d) => !before.has(d));
    expect(made).toHaveLength(1);
    expect(a.sortedCopy()[8192]).toBe(8192);
    spill.close();
    expect(existsSync(`${tmpdir()}/${made[0]}`)).toBe(false);
  });
});
