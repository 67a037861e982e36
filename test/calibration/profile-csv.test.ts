import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import type { FittedCoefficients } from "../../src/model/fitted-coefficients.ts";
import {
  calibrateGroup,
  fittedModel,
  formatProfileCsv,
  groupMeasurements,
  parseProfileCsv,
  PROFILE_CSV_HEADER,
  profileMeasurements,
  simulateStaticBatch,
  type ProfileRow,
  type StaticBatch,
} from "../../sim/calibrate/index.ts";

const TRUTH: FittedCoefficients = {
  overhead_s: 0.008,
  per_prefill_token_s: 4e-5,
  per_attention_pair_s: 2e-10,
  per_decode_seq_s: 1.5e-4,
  per_kv_token_s: 6e-8,
};

/** What `tandem profile` would write for a sweep against a server whose steps take `truth`'s time:
 *  one row per request of each static batch. */
function syntheticRows(truth: FittedCoefficients, budget: number | undefined): ProfileRow[] {
  const model = fittedModel({ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1 }, truth);
  const rows: ProfileRow[] = [];
  let id = 0;
  for (const b of [1, 2, 4, 8]) {
    for (const p of [200, 700, 1500]) {
      for (const n of [8, 40]) {
        const requests = Array.from({ length: b }, (_, i) => ({ prompt_tokens: p + 10 * i, output_tokens: n + i }));
        const batch: StaticBatch = { requests, max_num_batched_tokens: budget ?? requests.reduce((s, r) => s + r.prompt_tokens, 0), max_num_seqs: 64 };
        const t = simulateStaticBatch(batch, model);
        requests.forEach((r, i) =>
          rows.push({
            model: "meta-llama/Meta-Llama-3-8B-Instruct",
            gpu: "NVIDIA H100 80GB HBM3",
            tensor_parallel: 1,
            batch_id: `b${id}`,
            batch_size: b,
            request_index: i,
            prompt_tokens: r.prompt_tokens,
            output_tokens: r.output_tokens,
            ttft_s: t.ttft_s[i],
            tpot_s: t.tpot_s[i],
            e2e_s: t.e2e_s[i],
            max_num_batched_tokens: budget,
            max_num_seqs: budget === undefined ? undefined : 64,
            cached_tokens: 0,
            preemptions: undefined,
            server_running: 0,
            server_waiting: 0,
            server_kv_usage: 0,
            started_at: "2025-01-01T00:00:00Z",
            engine_version: "vllm 0.10.1",
          }),
        );
        id++;
      }
    }
  }
  return rows;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

const HEADER = "model,gpu,tensor_parallel,batch_id,batch_size,request_index,prompt_tokens,output_tokens,ttft_s,tpot_s,e2e_s";
const ROW = "llama-3-8b,h100,1,a,1,0,512,65,0.05,0.01,0.69";

describe("tandem profile CSV", () => {
  it("writes and reads back the same rows", () => {
    const rows = syntheticRows(TRUTH, 512);
    const text = formatProfileCsv(rows);
    expect(text.split("\n")[0]).toBe(PROFILE_CSV_HEADER);
    const back = parseProfileCsv(text, "p.csv");
    expect(back.map((r) => r.row)).toEqual(rows);
    expect(back[0].line).toBe(2);
  });

  it("quotes cells that hold commas or quotes", () => {
    const [row] = syntheticRows(TRUTH, undefined);
    const odd = { ...row, engine_version: 'vllm "0.10", custom' };
    const back = parseProfileCsv(formatProfileCsv([odd]), "p.csv");
    expect(back[0].row.engine_version).toBe('vllm "0.10", custom');
  });

  it("calibrating a synthetic sweep recovers the server's coefficients (chunked prefill, per-request rows)", () => {
    for (const budget of [512, undefined]) {
      const rows = parseProfileCsv(formatProfileCsv(syntheticRows(TRUTH, budget)), "sweep.csv");
      const { measurements, excluded } = profileMeasurements(rows, "sweep.csv");
      expect(excluded).toEqual([]);
      const [group] = groupMeasurements(measurements);
      expect(group.model).toBe("llama-3-8b");
      expect(group.gpu).toBe("h100-80gb");
      const cal = calibrateGroup(group, { fit: { form: "basic" }, folds: 4 });
      const c = cal.document.coefficients;
      for (const key of ["overhead_s", "per_prefill_token_s", "per_attention_pair_s", "per_decode_seq_s", "per_kv_token_s"] as const)
        expect(Math.abs(c[key] / TRUTH[key] - 1), `${key} budget ${budget}`).toBeLessThan(1e-6);
      expect(cal.cross_validation!.errors.ttft!.max_ape).toBeLessThan(1e-6);
    }
  });

  it("names the file, line and column of a bad cell, and what was expected", () => {
    expect(errorOf(() => parseProfileCsv(`${HEADER}\n${ROW}\nllama-3-8b,h100,1,b,1,0,512,65,abc,0.01,0.69\n`, "p.csv"))).toBe('p.csv:3: column "ttft_s": expected a number > 0, got "abc"');
    expect(errorOf(() => parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,b,1,0,512,65,0.05,0.01,-0.69\n`, "p.csv"))).toMatch(/^p\.csv:2: column "e2e_s": expected a number > 0, got "-0\.69"$/);
    expect(errorOf(() => parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,b,1,0,512.5,65,0.05,0.01,0.69\n`, "p.csv"))).toMatch(
      /^p\.csv:2: column "prompt_tokens": expected an integer ≥ 1, got "512\.5"$/,
    );
    expect(errorOf(() => parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,b,1,0,512,65,0.05\n`, "p.csv"))).toMatch(/^p\.csv:2: column "tpot_s": missing/);
    expect(errorOf(() => parseProfileCsv(`${HEADER}\n,h100,1,b,1,0,512,65,0.05,0.01,0.69\n`, "p.csv"))).toMatch(/^p\.csv:2: column "model": expected a non-empty value/);
  });

  it("names a missing or unknown column in the header", () => {
    expect(errorOf(() => parseProfileCsv("model,gpu\nx,y\n", "p.csv"))).toMatch(/^p\.csv:1: header has no column "tensor_parallel"; expected columns model, gpu, tensor_parallel/);
    expect(errorOf(() => parseProfileCsv(`${HEADER},ttft_ms\n${ROW},50\n`, "p.csv"))).toMatch(/^p\.csv:1: unknown column "ttft_ms"/);
  });

  it("checks each row's times against each other", () => {
    expect(errorOf(() => parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,a,1,0,512,65,0.05,0.02,0.69\n`, "p.csv"))).toMatch(
      /^p\.csv:2: column "tpot_s": expected \(e2e_s − ttft_s\) \/ \(output_tokens − 1\) = 0\.01 \(within 1%\), got 0\.02$/,
    );
    expect(errorOf(() => parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,a,1,0,512,65,0.8,0.01,0.69\n`, "p.csv"))).toMatch(/column "e2e_s": expected a time ≥ ttft_s/);
    expect(errorOf(() => parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,a,2,2,512,65,0.05,0.01,0.69\n`, "p.csv"))).toMatch(
      /column "request_index": expected an integer below batch_size 2, got 2/,
    );
  });

  it("a batch must be complete and consistent", () => {
    const incomplete = parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,a,2,0,512,65,0.05,0.01,0.69\n`, "p.csv");
    expect(errorOf(() => profileMeasurements(incomplete, "p.csv"))).toMatch(/^p\.csv:2: batch "a": batch_size 2 but no row for request_index 1/);
    const mixed = parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,a,2,0,512,65,0.05,0.01,0.69\nllama-3-8b,h100,2,a,2,1,512,65,0.05,0.01,0.69\n`, "p.csv");
    expect(errorOf(() => profileMeasurements(mixed, "p.csv"))).toMatch(/^p\.csv:3: column "tensor_parallel": batch "a" has 1 on line 2 but 2 here/);
    const twice = parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,a,2,0,512,65,0.05,0.01,0.69\nllama-3-8b,h100,1,a,2,0,512,65,0.05,0.01,0.69\n`, "p.csv");
    expect(errorOf(() => profileMeasurements(twice, "p.csv"))).toMatch(/^p\.csv:3: column "request_index": batch "a" has request 0 on line 2 too/);
  });

  it("keeps batches that hit the prefix cache or were preempted out of the fit, with the reason", () => {
    const text = `${HEADER},cached_tokens\n${ROW},0\nllama-3-8b,h100,1,b,1,0,512,65,0.05,0.01,0.69,256\n`;
    const { measurements, excluded } = profileMeasurements(parseProfileCsv(text, "p.csv"), "p.csv");
    expect(measurements).toHaveLength(1);
    expect(excluded).toEqual([expect.objectContaining({ source: "p.csv:3", reason: expect.stringMatching(/hit the prefix cache/) })]);
  });

  it("a one-token output has an empty tpot_s", () => {
    const rows = parseProfileCsv(`${HEADER}\nllama-3-8b,h100,1,a,1,0,512,1,0.05,,0.05\n`, "p.csv");
    expect(rows[0].row.tpot_s).toBeUndefined();
    expect(profileMeasurements(rows, "p.csv").measurements[0].tpot_s).toBeUndefined();
  });
});
