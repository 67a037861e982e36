import { describe, expect, it } from "vitest";
import {
  DEFAULT_GRID,
  batchDisturbance,
  batchRows,
  checkSweep,
  expandGrid,
  parseCountList,
  parseGridFile,
  resolveGrid,
  sweepRequests,
  UniquePrompts,
  type BatchMeasurement,
  type DeliveredRequest,
} from "../../live/profile/index.ts";
import { formatProfileCsv, parseProfileCsv, profileMeasurements } from "../../sim/calibrate/index.ts";
import { InputError } from "../../src/core/errors.ts";

describe("sweep grid", () => {
  it("parses flag lists and refuses bad ones with a message naming the flag", () => {
    expect(parseCountList("128, 512,1024", "--prompts")).toEqual([128, 512, 1024]);
    expect(() => parseCountList("128,x", "--prompts")).toThrow(/--prompts: "x" is not an integer ≥ 1/);
    expect(() => parseCountList("0", "--outputs")).toThrow(/--outputs: "0"/);
    expect(() => parseCountList("", "--batch-sizes")).toThrow(/--batch-sizes: empty list/);
    expect(() => parseCountList("4,4", "--batch-sizes")).toThrow(/4 appears twice/);
    expect(() => parseCountList("1.5", "--prompts")).toThrow(InputError);
  });

  it("expands prompts × batch sizes × outputs × repeats, then explicit points, with unique batch ids", () => {
    const points = expandGrid({ prompts: [128, 512], batch_sizes: [1, 4], outputs: [32], points: [{ prompt: 128, batch_size: 1, output: 32 }], repeats: 2 });
    expect(points.map((p) => p.batch_id)).toEqual([
      "p128-b1-o32-r1",
      "p128-b1-o32-r2",
      "p128-b4-o32-r1",
      "p128-b4-o32-r2",
      "p512-b1-o32-r1",
      "p512-b1-o32-r2",
      "p512-b4-o32-r1",
      "p512-b4-o32-r2",
      "p128-b1-o32-r3",
      "p128-b1-o32-r4",
    ]);
    expect(points.map((p) => p.index)).toEqual(points.map((_, i) => i));
    expect(sweepRequests(points)).toBe(2 * (1 + 4 + 1 + 4) + 2);
    expect(expandGrid(DEFAULT_GRID)).toHaveLength(32);
  });

  it("reads YAML and JSON grid files; flags win over the file, the file over the defaults", () => {
    const yaml = parseGridFile("prompts: [256, 1024]\nbatch-sizes: [2]\nrepeats: 3\n", "g.yaml");
    expect(resolveGrid({}, yaml)).toEqual({ prompts: [256, 1024], batch_sizes: [2], outputs: DEFAULT_GRID.outputs, points: [], repeats: 3 });
    expect(resolveGrid({ prompts: [64], repeats: 1 }, yaml)).toMatchObject({ prompts: [64], batch_sizes: [2], repeats: 1 });
    const json = parseGridFile(JSON.stringify({ points: [{ prompt: 4096, batch_size: 2, output: 16 }] }), "g.json");
    // A file of explicit points only does not also get the default product.
    expect(expandGrid(resolveGrid({}, json)).map((p) => p.batch_id)).toEqual(["p4096-b2-o16-r1"]);
    expect(resolveGrid({}, undefined)).toEqual(DEFAULT_GRID);
  });

  it("refuses bad grid files naming the file and the field", () => {
    expect(() => parseGridFile("prompts: [1, x]\n", "g.yaml")).toThrow(/^g\.yaml: prompts\.1: /);
    expect(() => parseGridFile("prompt_sizes: [1]\n", "g.yaml")).toThrow(/g\.yaml: .*unknown field\(s\) prompt_sizes/);
    expect(() => parseGridFile("- 1\n- 2\n", "g.yaml")).toThrow(/g\.yaml: expected a mapping/);
    expect(() => parseGridFile("prompts: [1, 1]\n", "g.yaml")).toThrow(/each value once/);
    expect(() => parseGridFile("points: [{prompt: 1, batch_size: 0, output: 1}]\n", "g.yaml")).toThrow(/g\.yaml: points\.0\.batch_size/);
    expect(() => parseGridFile("{ nope", "g.json")).toThrow(/g\.json: not YAML or JSON/);
  });

  it("refuses points the server cannot run as one static batch", () => {
    const points = expandGrid({ prompts: [4000], batch_sizes: [8], outputs: [200], points: [], repeats: 1 });
    expect(() => checkSweep(points, { max_model_len: 4096 })).toThrow(/p4000-b8-o200-r1: prompt 4000 \+ output 200 tokens exceed the server's max_model_len 4096/);
    expect(() => checkSweep(points, { max_num_seqs: 4 })).toThrow(/batch size 8 exceeds --max-num-seqs 4/);
    expect(() => checkSweep([], {})).toThrow(/empty/);
    expect(() => checkSweep(points, { max_model_len: 8192, max_num_seqs: 256 })).not.toThrow();
  });
});

describe("unique prompts", () => {
  it("never share a first block within a run, and differ between seeds", () => {
    const a = new UniquePrompts("s1");
    const firstBlocks = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const ids = a.next(32);
      expect(ids).toHaveLength(32);
      if (!ids.every((id) => id >= 1000 && id < 30000 && Number.isInteger(id))) throw new Error(`ids out of range: ${ids.join(",")}`);
      firstBlocks.add(ids.slice(0, 16).join(","));
    }
    expect(firstBlocks.size).toBe(500);
    const b = new UniquePrompts("s2");
    expect(b.next(32).slice(0, 16)).not.toEqual(new UniquePrompts("s1").next(32).slice(0, 16));
    // Deterministic for a seed.
    expect(new UniquePrompts("s1").next(64)).toEqual(new UniquePrompts("s1").next(64));
    expect(new UniquePrompts("x").next(1)).toHaveLength(1);
  });
});

function measurement(overrides: Partial<BatchMeasurement> = {}): BatchMeasurement {
  const [point] = expandGrid({ prompts: [512], batch_sizes: [2], outputs: [5], points: [], repeats: 1 });
  return {
    point: point!,
    start_s: 10,
    requests: [
      { prompt_tokens: 512, output_tokens: 5, cached_tokens: 0, first_token_s: 10.2, last_token_s: 10.6 },
      { prompt_tokens: 512, output_tokens: 5, cached_tokens: 0, first_token_s: 10.2004, last_token_s: 10.6004 },
    ],
    server: { running: 0, waiting: 0, kv_usage: 0 },
    started_at: "2025-01-01T00:00:00.000Z",
    preemptions: undefined,
    ...overrides,
  };
}

describe("profile rows", () => {
  it("turn a batch into profile CSV rows that calibration reads back", () => {
    const rows = batchRows(measurement(), { model: "llama-3-8b", gpu: "h100", tensor_parallel: 1, max_num_batched_tokens: 8192, engine_version: "vllm 0.10.1" });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ batch_id: "p512-b2-o5-r1", batch_size: 2, request_index: 0, prompt_tokens: 512, output_tokens: 5, cached_tokens: 0, server_running: 0 });
    expect(rows[0]!.ttft_s).toBeCloseTo(0.2, 12);
    expect(rows[0]!.e2e_s).toBeCloseTo(0.6, 12);
    expect(rows[0]!.tpot_s).toBeCloseTo(0.1, 12);
    const csv = formatProfileCsv(rows);
    const parsed = parseProfileCsv(csv, "p.csv");
    expect(parsed.map((r) => r.row)).toEqual(rows);
    const { measurements, excluded } = profileMeasurements(parsed, "p.csv");
    expect(measurements).toHaveLength(2);
    expect(excluded).toHaveLength(0);
    expect(measurements[0]!.batch.max_num_batched_tokens).toBe(8192);
  });

  it("mark preempted batches so calibration leaves them out, and refuse impossible times", () => {
    const rows = batchRows(measurement({ preemptions: 2 }), { model: "m", gpu: "g", tensor_parallel: 1 });
    expect(rows.every((r) => r.preemptions === 2)).toBe(true);
    expect(profileMeasurements(parseProfileCsv(formatProfileCsv(rows), "p.csv"), "p.csv").excluded).toHaveLength(2);
    const early = measurement();
    early.requests[0]!.first_token_s = 9.9;
    expect(() => batchRows(early, { model: "m", gpu: "g", tensor_parallel: 1 })).toThrow(/request 0 got its first token -0\.1 s after the batch started/);
    const lump = measurement();
    lump.requests[1]!.last_token_s = lump.requests[1]!.first_token_s;
    expect(() => batchRows(lump, { model: "m", gpu: "g", tensor_parallel: 1 })).toThrow(/all arrived at once/);
  });
});

describe("disturbance check", () => {
  const ok: DeliveredRequest = { first_s: 1.2, last_s: 1.6, first_chunk_tokens: 1, last_chunk_tokens: 1, output_tokens: 5 };
  const base = { start_s: 1, start_is_read: true, stalls: [], tolerance: 0.02, slack_s: 0.002 };

  it("accepts clean deliveries", () => {
    expect(batchDisturbance({ ...base, requests: [ok, ok] })).toBeUndefined();
    // A stall far from every read does not matter.
    expect(batchDisturbance({ ...base, requests: [ok], stalls: [{ start_s: 1.3, end_s: 1.35 }] })).toBeUndefined();
  });

  it("flags tokens held back, a start read late, and reads right after a stall of the process", () => {
    expect(batchDisturbance({ ...base, requests: [{ ...ok, first_chunk_tokens: 3 }] })).toMatch(/first token arrived together with 2 more/);
    expect(batchDisturbance({ ...base, requests: [{ ...ok, last_chunk_tokens: 2 }] })).toMatch(/last token arrived together with 1 more/);
    expect(batchDisturbance({ ...base, requests: [{ ...ok, first_s: 1.01 }] })).toMatch(/TTFT 10\.0 ms is below half its TPOT/);
    // 10 ms stall right before the first token (TTFT 200 ms: 2% = 4 ms).
    expect(batchDisturbance({ ...base, requests: [ok], stalls: [{ start_s: 1.19, end_s: 1.2 }] })).toMatch(/first token was read right after a 10\.0 ms stall/);
    expect(batchDisturbance({ ...base, requests: [ok], stalls: [{ start_s: 1.19, end_s: 1.199 }] })).toMatch(/first token was read right after/);
    expect(batchDisturbance({ ...base, requests: [ok], stalls: [{ start_s: 1.199, end_s: 1.2 }] })).toBeUndefined();
    expect(batchDisturbance({ ...base, requests: [ok], stalls: [{ start_s: 1.59, end_s: 1.6 }] })).toMatch(/last token was read right after/);
    expect(batchDisturbance({ ...base, requests: [ok], stalls: [{ start_s: 0.99, end_s: 1.0 }] })).toMatch(/gate's token was read right after/);
    expect(batchDisturbance({ ...base, start_is_read: false, requests: [ok], stalls: [{ start_s: 0.99, end_s: 1.0 }] })).toBeUndefined();
  });
});
