import { describe, expect, it } from "vitest";
import { CALLS_CSV_HEADER, callRowToCsv, formatCsvNumber } from "../../src/metrics/calls-csv.ts";
import { runScript } from "./fixtures.ts";

describe("calls.csv", () => {
  it("has the documented columns", () => {
    expect(CALLS_CSV_HEADER).toBe(
      "call_id,status,reason,instance,model,tenant,arrival_s,dispatched_s,first_token_s,finished_s," +
        "queue_s,ttft_s,tpot_s,e2e_s,prompt_tokens,cached_tokens,output_tokens,preemptions,agent",
    );
  });

  it("writes one line per closed call with empty cells for what does not apply", () => {
    const lines = runScript().rows.map(callRowToCsv);
    expect(lines).toEqual([
      "A,finished,,i1,llama-8b,t1,0,0.25,0.5,1,0.25,0.5,0.166666667,1,100,32,4,0,",
      "B,finished,,i2,llama-8b,t1,0.5,0.5,1.5,1.5,0,1,,1,50,0,1,1,",
      "D,rejected,queue full,,llama-8b,t1,2,,,2,,,,,9000,,,,",
      "C,finished,,i2,llama-8b,t1,1,1.5,2,2.5,0.5,1,0.125,1.5,200,64,5,0,",
      "E,failed,timeout,i1,llama-8b,t1,2,2.25,,4,0.25,,,,10,,,,",
    ]);
    for (const line of lines) expect(line.split(",").length).toBe(19);
  });

  it("formats numbers with at most 9 decimals, trailing zeros trimmed", () => {
    expect(formatCsvNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatCsvNumber(1 / 3)).toBe("0.333333333");
    expect(formatCsvNumber(12)).toBe("12");
    expect(formatCsvNumber(1e-10)).toBe("0");
    expect(formatCsvNumber(-1e-10)).toBe("0");
    expect(formatCsvNumber(-2.5)).toBe("-2.5");
    expect(() => formatCsvNumber(Number.NaN)).toThrow(/non-finite/);
  });

  it("quotes strings containing commas, quotes or newlines", () => {
    const [row] = runScript().rows;
    const line = callRowToCsv({ ...row, call_id: 'a,"b"', reason: "line1\nline2" });
    expect(line.startsWith('"a,""b""",finished,"line1\nline2",i1,')).toBe(true);
  });
});
