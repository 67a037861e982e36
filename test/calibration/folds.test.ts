import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { measurementFolds, prefillShape, prefillShapes, configurations, type Measurement } from "../../sim/calibrate/index.ts";

/** A measurement of a batch of `prompts` (one request each), `output` tokens, under `budget`. */
function measurement(prompts: number[], output: number, budget: number, subject: number | "batch"): Measurement {
  return {
    source: "m.csv:1",
    model: "llama-3-8b",
    gpu: "h100-80gb",
    tensor_parallel: 1,
    config: `budget ${budget}: ${prompts.map((p) => `${p}x${output}`).join(",")}`,
    batch: { requests: prompts.map((p) => ({ prompt_tokens: p, output_tokens: output })), max_num_batched_tokens: budget, max_num_seqs: prompts.length },
    subject,
    ttft_s: 0.1,
    tpot_s: output >= 2 ? 0.01 : undefined,
    e2e_s: 0.1 + 0.01 * (output - 1),
  };
}

// Few prompt lengths, batch sizes, outputs and budgets, so that random sets have many configurations
// sharing a prefill shape (the case that leaked).
const arbMeasurement = fc
  .record({
    prompts: fc.oneof(
      fc.tuple(fc.constantFrom(128, 512, 2048), fc.constantFrom(1, 2, 8)).map(([p, b]) => Array<number>(b).fill(p)),
      fc.array(fc.constantFrom(128, 512), { minLength: 2, maxLength: 3 }),
    ),
    output: fc.constantFrom(1, 16, 128, 1024),
    budget: fc.constantFrom(512, 8192),
    subject: fc.constantFrom<number | "batch">("batch", 0),
  })
  .map(({ prompts, output, budget, subject }) => measurement(prompts, output, budget, subject));

describe("cross-validation folds", () => {
  it("a prefill shape is the batch's prompt lengths, whatever its outputs and engine settings", () => {
    expect(prefillShape(measurement([512], 1, 512, "batch"))).toBe("p512 b1");
    expect(prefillShape(measurement([512], 1024, 8192, "batch"))).toBe("p512 b1");
    expect(prefillShape(measurement([512, 512, 512, 512], 16, 8192, 2))).toBe("p512 b4");
    expect(prefillShape(measurement([128, 512], 16, 8192, 0))).toBe("prompts 128,512");
    expect(prefillShape(measurement([512, 128], 16, 8192, 0))).toBe("prompts 512,128");
  });

  it("folds never split a prefill shape, every fold holds some, and the assignment is deterministic", () => {
    fc.assert(
      fc.property(fc.array(arbMeasurement, { minLength: 1, maxLength: 60 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 1000 }), (ms, folds, seed) => {
        fc.pre(prefillShapes(ms).length >= folds);
        const fold = measurementFolds(ms, { folds, seed });
        expect(fold).toHaveLength(ms.length);
        const foldOfShape = new Map<string, number>();
        ms.forEach((m, i) => {
          expect(Number.isInteger(fold[i]) && fold[i] >= 0 && fold[i] < folds).toBe(true);
          const shape = prefillShape(m);
          const seen = foldOfShape.get(shape);
          if (seen === undefined) foldOfShape.set(shape, fold[i]);
          else expect(fold[i], `${shape} split across folds`).toBe(seen);
        });
        // Shapes are dealt round-robin: every fold gets at least one.
        expect(new Set(fold).size).toBe(folds);
        expect(measurementFolds(ms, { folds, seed })).toEqual(fold);
      }),
      { numRuns: 300 },
    );
  });

  it("per-configuration folds keep a configuration together but can split a shape (the leak)", () => {
    const ms = [1, 16, 128, 1024, 2, 32, 256].map((n) => measurement([512], n, 512, "batch"));
    ms.push(measurement([2048], 16, 8192, "batch"), measurement([128], 16, 8192, "batch"));
    expect(configurations(ms)).toHaveLength(9);
    const byConfig = measurementFolds(ms, { folds: 3, seed: 1, unit: "configuration" });
    expect(new Set(byConfig.slice(0, 7)).size).toBeGreaterThan(1);
    const byShape = measurementFolds(ms, { folds: 3, seed: 1 });
    expect(new Set(byShape.slice(0, 7)).size).toBe(1);
  });

  it("refuses fewer shapes than folds", () => {
    const ms = [1, 16, 128].map((n) => measurement([512], n, 512, "batch"));
    expect(() => measurementFolds(ms, { folds: 2, seed: 1 })).toThrow(/1 shape\(s\) cannot fill 2 folds/);
    expect(measurementFolds(ms, { folds: 2, seed: 1, unit: "configuration" })).toHaveLength(3);
  });
});
