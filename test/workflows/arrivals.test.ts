import { describe, expect, it } from "vitest";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { RngStreams, type Random } from "../../src/core/rng.ts";
import { workflowArrivals, type WorkflowArrivalOptions } from "../../traces/workflows/arrivals.ts";
import { instantiate } from "../../traces/workflows/instantiate.ts";
import { sharedData } from "../helpers/requirements.ts";
import { collect, expectInputError, tempFile } from "./helpers.ts";

function template(id: string): WorkflowSpec {
  return {
    id,
    arrival_s: 0,
    app: "appworld",
    agents: { S: { system_tokens: 10 } },
    steps: [
      { kind: "llm", id: "a", after: [], agent: "S", input_tokens: 5, output_tokens: 3 },
      { kind: "tool", id: "t", after: ["a"], duration_s: 0.5, output_tokens: 0 },
      { kind: "llm", id: "b", after: ["t"], agent: "S", history: "a", input_tokens: 5, output_tokens: 3 },
    ],
  };
}
const templates = [template("task_a"), template("task_b"), template("task_c")];
const source = { kind: "templates", templates } as const;

/** Azure-format CSV rows at these offsets (seconds) from 2023-11-16 18:15:46.6805900. */
function azureCsv(offsets_s: number[]): string {
  const base_ms = Date.UTC(2023, 10, 16, 18, 15, 46);
  const rows = offsets_s.map((o) => {
    const total = 0.68059 + o;
    const whole = Math.floor(total);
    const date = new Date(base_ms + whole * 1000).toISOString().slice(0, 19).replace("T", " ");
    const fraction = Math.round((total - whole) * 1e7)
      .toString()
      .padStart(7, "0");
    return `${date}.${fraction},100,20`;
  });
  return ["TIMESTAMP,ContextTokens,GeneratedTokens", ...rows].join("\n") + "\n";
}

const times = (wfs: WorkflowSpec[]) => wfs.map((w) => w.arrival_s);

describe("timestamp arrivals (Kairos sample interval and scale factor)", () => {
  it("keeps rows 0, k, 2k, … and turns each into s arrivals, in seconds since the first kept row", async () => {
    const path = await tempFile("azure.csv", azureCsv([0, 1, 2, 3.5, 4, 5, 6.25]));
    const wfs = await collect(workflowArrivals({ source, timing: { kind: "timestamps", path, sample_interval: 2, scale_factor: 3 }, seed: 1 }));
    expect(wfs).toHaveLength(12);
    expect(times(wfs)).toEqual([0, 0, 0, 2, 2, 2, 4, 4, 4, 6.25, 6.25, 6.25]);
    // Defaults: every row, one arrival each.
    const all = await collect(workflowArrivals({ source, timing: { kind: "timestamps", path }, seed: 1 }));
    expect(times(all)).toEqual([0, 1, 2, 3.5, 4, 5, 6.25]);
  });

  it("stops at limit, and rejects bad knobs and bad rows naming the flag or line", async () => {
    const path = await tempFile("azure.csv", azureCsv([0, 1, 2, 3]));
    const limited = await collect(workflowArrivals({ source, timing: { kind: "timestamps", path, scale_factor: 3 }, seed: 1, limit: 4 }));
    expect(times(limited)).toEqual([0, 0, 0, 1]);
    const timing = (t: Record<string, unknown>) => ({ kind: "timestamps", path, ...t }) as WorkflowArrivalOptions["timing"];
    await expectInputError(() => workflowArrivals({ source, timing: timing({ sample_interval: 0 }), seed: 1 }), "--sample-interval");
    await expectInputError(() => workflowArrivals({ source, timing: timing({ scale_factor: 1.5 }), seed: 1 }), "--scale-factor");
    const bad = await tempFile("bad.csv", "TIMESTAMP\n2023-11-16 18:15:46.68\nyesterday\n");
    await expectInputError(() => workflowArrivals({ source, timing: { kind: "timestamps", path: bad }, seed: 1 }), `${bad}:3`, "TIMESTAMP");
    const backwards = await tempFile("back.csv", "TIMESTAMP\n2023-11-16 18:15:47\n2023-11-16 18:15:46\n");
    await expectInputError(() => workflowArrivals({ source, timing: { kind: "timestamps", path: backwards }, seed: 1 }), `${backwards}:3`, "non-decreasing");
    const headerOnly = await tempFile("h.csv", "TIMESTAMP,ContextTokens\n");
    await expectInputError(() => workflowArrivals({ source, timing: { kind: "timestamps", path: headerOnly }, seed: 1 }), "no usable rows");
  });

  const azure = sharedData("traces/azure-llm-2023-conv.csv");
  azure.it("thins the real Azure conversation trace by the sample interval", async () => {
    const wfs = await collect(workflowArrivals({ source, timing: { kind: "timestamps", path: azure.path, sample_interval: 10, scale_factor: 2 }, seed: 1 }));
    expect(wfs).toHaveLength(Math.ceil(19366 / 10) * 2);
    const t = times(wfs);
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThanOrEqual(t[i - 1]);
    expect(t[t.length - 1]).toBeGreaterThan(3000); // about an hour
  });
});

describe("generated arrivals", () => {
  it("Poisson arrivals are deterministic by seed, start at 0 and have the asked rate", async () => {
    const options = (seed: number): WorkflowArrivalOptions => ({ source, timing: { kind: "poisson", rate: 4, count: 2000 }, seed });
    const a = times(await collect(workflowArrivals(options(11))));
    expect(a).toHaveLength(2000);
    expect(times(await collect(workflowArrivals(options(11))))).toEqual(a);
    expect(times(await collect(workflowArrivals(options(12))))).not.toEqual(a);
    expect(a[0]).toBe(0);
    expect(a[a.length - 1] / (a.length - 1)).toBeCloseTo(1 / 4, 1);
  });

  it("gamma and fixed timings; bad options name the flag", async () => {
    const gamma = await collect(workflowArrivals({ source, timing: { kind: "gamma", rate: 2, cv: 3, count: 50 }, seed: 1 }));
    expect(gamma).toHaveLength(50);
    const fixed = await collect(workflowArrivals({ source, timing: { kind: "fixed", count: 4, interval_s: 0.5 }, seed: 1 }));
    expect(times(fixed)).toEqual([0, 0.5, 1, 1.5]);
    await expectInputError(() => workflowArrivals({ source, timing: { kind: "poisson", rate: -1, count: 5 }, seed: 1 }), "--rate");
    await expectInputError(() => workflowArrivals({ source, timing: { kind: "poisson", rate: 1, count: 0 }, seed: 1 }), "--count");
    await expectInputError(() => workflowArrivals({ source, timing: { kind: "gamma", rate: 1, cv: 0, count: 5 }, seed: 1 }), "--cv");
    await expectInputError(() => workflowArrivals({ source, timing: { kind: "fixed", count: 2, interval_s: -1 }, seed: 1 }), "--interval");
    const fixed2 = { kind: "fixed", count: 2, interval_s: 1 } as const;
    await expectInputError(() => workflowArrivals({ source, timing: fixed2, seed: 1, limit: 0 }), "--limit");
    await expectInputError(() => workflowArrivals({ source, timing: fixed2, seed: 1, priority_class: "urgent" as never }), "--priority-class");
    await expectInputError(() => workflowArrivals({ source, timing: fixed2, seed: 1, slo_s: 0 }), "--slo");
    await expectInputError(() => workflowArrivals({ source: { kind: "templates", templates: [] }, timing: fixed2, seed: 1 }), "templates");
  });
});

describe("template instantiation", () => {
  it("gives every arrival a unique id, keeps step ids and picks templates by seed", async () => {
    const run = (seed: number) => collect(workflowArrivals({ source, timing: { kind: "fixed", count: 60, interval_s: 1 }, seed, tenant: "t1", priority_class: "low", slo_s: 20 }));
    const wfs = await run(5);
    expect(new Set(wfs.map((w) => w.id)).size).toBe(60);
    wfs.forEach((w, k) => {
      expect(w.id).toMatch(new RegExp(`^task_[abc]#${k}$`));
      expect(w.arrival_s).toBe(k);
      expect(w.steps.map((s) => s.id)).toEqual(["a", "t", "b"]);
      expect(w).toMatchObject({ tenant: "t1", priority_class: "low", slo_s: 20, app: "appworld" });
    });
    const picks = wfs.map((w) => w.id.split("#")[0]);
    expect(new Set(picks)).toEqual(new Set(["task_a", "task_b", "task_c"]));
    // Template k is floor(u·n) with u from the stream "templates".
    const u = new RngStreams(5).stream("templates");
    expect(picks).toEqual(wfs.map(() => templates[Math.floor(u() * templates.length)].id));
    expect((await run(5)).map((w) => w.id)).toEqual(wfs.map((w) => w.id));
    expect((await run(6)).map((w) => w.id)).not.toEqual(wfs.map((w) => w.id));
  });

  it("leaves the templates untouched and instances' shared steps frozen", async () => {
    const before = structuredClone(templates);
    const [wf] = await collect(workflowArrivals({ source, timing: { kind: "fixed", count: 1, interval_s: 1 }, seed: 1, tenant: "x" }));
    expect(templates).toEqual(before);
    expect(Object.isFrozen(wf.steps)).toBe(true);
    expect(() => {
      (wf.steps[0] as { input_tokens: number }).input_tokens = 1;
    }).toThrow(TypeError);
    expect(instantiate(templates[0], 3, 9)).toMatchObject({ id: "task_a#3", arrival_s: 9, steps: templates[0].steps });
  });
});

describe("app arrivals", () => {
  const app = {
    build(index: number, params: { tokens: number }, random: Random): WorkflowSpec {
      return {
        id: `toy-${index}`,
        arrival_s: 123, // replaced by the timing
        app: "toy",
        agents: { A: { system_tokens: 4 } },
        steps: [{ kind: "llm", id: "s", after: [], agent: "A", input_tokens: params.tokens, output_tokens: 1 + Math.floor(random() * 100) }],
      };
    },
  };

  it("builds arrival k with build(k, params, stream app:NAME) and sets its time", async () => {
    const wfs = await collect(workflowArrivals({ source: { kind: "app", name: "toy", app, params: { tokens: 7 } }, timing: { kind: "fixed", count: 5, interval_s: 2 }, seed: 9, slo_s: 5 }));
    const stream = new RngStreams(9).stream("app:toy");
    expect(wfs.map((w) => w.id)).toEqual(["toy-0", "toy-1", "toy-2", "toy-3", "toy-4"]);
    expect(times(wfs)).toEqual([0, 2, 4, 6, 8]);
    for (const w of wfs) {
      expect(w.slo_s).toBe(5);
      expect(w.steps[0]).toMatchObject({ input_tokens: 7, output_tokens: 1 + Math.floor(stream() * 100) });
    }
  });

  it("names the arrival when a generator builds an invalid workflow", async () => {
    const broken = { build: (k: number) => ({ ...app.build(k, { tokens: 1 }, () => 0), agents: {} }) };
    await expectInputError(
      () => workflowArrivals({ source: { kind: "app", name: "toy", app: broken, params: {} }, timing: { kind: "fixed", count: 2, interval_s: 1 }, seed: 1 }),
      'app "toy" workflow 0',
      "unknown agent",
    );
  });
});

describe("arrivals from the app generators of traces/apps", () => {
  it("every registered app gives timed, uniquely named workflows, the same for the same seed", async () => {
    const { APPS, resolveAppParams } = await import("../../traces/apps/index.ts");
    for (const app of Object.values(APPS)) {
      const params = resolveAppParams(app, {}, "--param");
      const run = () => collect(workflowArrivals({ source: { kind: "app", name: app.name, app, params }, timing: { kind: "fixed", count: 3, interval_s: 1.5 }, seed: 2 }));
      const wfs = await run();
      expect(times(wfs)).toEqual([0, 1.5, 3]);
      expect(new Set(wfs.map((w) => w.id)).size).toBe(3);
      expect(await run()).toEqual(wfs);
    }
  });
});

describe("template instances redraw drawn tool durations", () => {
  it("gives each arrival of a template its own tool durations, deterministically by seed", async () => {
    const { workflowArrivals } = await import("../../traces/workflows/arrivals.ts");
    const template = {
      id: "task",
      arrival_s: 0,
      agents: { a: { system_tokens: 10 } },
      steps: [
        { kind: "llm" as const, id: "x", after: [], agent: "a", input_tokens: 5, output_tokens: 5 },
        { kind: "tool" as const, id: "t", after: ["x"], duration_s: 1, duration_dist: "lognormal:1,0.5", output_tokens: 0 },
      ],
    };
    const durations = async (seed: number) => {
      const out: number[] = [];
      for await (const batch of workflowArrivals({ source: { kind: "templates", templates: [template] }, timing: { kind: "fixed", count: 3, interval_s: 1 }, seed })) {
        for (const wf of batch) out.push((wf.steps[1] as { duration_s: number }).duration_s);
      }
      return out;
    };
    const a = await durations(1);
    expect(new Set(a).size).toBe(3);
    expect(await durations(1)).toEqual(a);
    expect(await durations(2)).not.toEqual(a);
  });
});
