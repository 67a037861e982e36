import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { buildReport, parseReportJson, type ReportParts, reportToJson } from "../../src/metrics/report-schema.ts";
import { runScript, SPECS } from "./fixtures.ts";

function parts(): ReportParts {
  const { recorder } = runScript();
  return {
    tandem_version: "0.1.0",
    mode: "sim",
    run: {
      seed: 42,
      config: { instances: SPECS, slo: { ttft_s: 0.75 } },
      trace: { source: "traces/sample.csv", format: "azure", rows: 5, arrival: "trace", time_scale: 1 },
      policies: { scheduling: "fcfs", dispatch: "least-outstanding" },
      observability: { mode: "scraped", interval_s: 0.5 },
      latency_model: { kind: "roofline" },
    },
    summary: recorder.summary(),
    instances: recorder.instances(SPECS),
    agents: [],
    models: [],
  };
}

describe("report", () => {
  it("validates and serialises byte-identically for the same event sequence", () => {
    const a = buildReport(parts());
    const b = buildReport(parts());
    expect(a.schema).toBe("tandem.report/v1");
    const json = reportToJson(a);
    expect(reportToJson(a)).toBe(json);
    expect(reportToJson(b)).toBe(json);
    expect(json.endsWith("}\n")).toBe(true);
    expect(json).toContain('\n  "schema": "tandem.report/v1",\n');
  });

  it("orders keys by the schema, not by how the caller built the object", () => {
    const p = parts();
    const shuffled = { models: p.models, agents: p.agents, instances: p.instances, summary: p.summary, run: p.run, mode: p.mode, tandem_version: p.tandem_version };
    expect(reportToJson(buildReport(shuffled))).toBe(reportToJson(buildReport(p)));
  });

  it("round-trips through parseReportJson", () => {
    const report = buildReport(parts());
    expect(parseReportJson(reportToJson(report), "r.json")).toEqual(report);
  });

  it("refuses NaN and Infinity, naming the field path", () => {
    const p = parts();
    p.summary.ttft_s.mean = Number.NaN;
    expect(() => buildReport(p)).toThrow(/summary\.ttft_s\.mean/);
    const q = parts();
    q.run.config = { instances: [{ rate: Infinity }] };
    expect(() => buildReport(q)).toThrow(/run\.config\.instances\.0\.rate/);
  });

  it("refuses unknown fields", () => {
    const p = parts() as ReportParts & { extra?: number };
    p.extra = 1;
    expect(() => buildReport(p)).toThrow(/invalid report/);
  });

  it("reports bad report files as input errors naming the file", () => {
    expect(() => parseReportJson("{", "bad.json")).toThrow(InputError);
    expect(() => parseReportJson('{"schema":"x"}', "bad.json")).toThrow(/bad\.json: not a tandem\.report\/v1 report: schema/);
  });
});
