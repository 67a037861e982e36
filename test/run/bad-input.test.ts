/** One run setup: the same bad input gets the same one-line error and exit code 2 from `tandem sim`
 *  and `tandem live --emulate`, and the gateway refuses what applies to it the same way (its
 *  workload arrives over HTTP, so request-level cases are HTTP errors there, checked below). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startGateway } from "../../live/gateway/index.ts";
import { cliSandbox, expectInputError, type CliResult } from "../helpers/cli.ts";

const cli = cliSandbox("tandem-bad-input-");
cli.file("dup.jsonl", ['{"id":"r1","arrival_s":0,"prompt_tokens":100,"output_tokens":500}', '{"id":"r1","arrival_s":0.01,"prompt_tokens":100,"output_tokens":5}'].join("\n") + "\n");
cli.file(
  "long.jsonl",
  [
    '{"id":"r1","arrival_s":0,"prompt_tokens":100,"output_tokens":5}',
    '{"id":"r2","arrival_s":0.01,"prompt_tokens":9000,"output_tokens":5}',
    '{"id":"r3","arrival_s":0.02,"prompt_tokens":100,"output_tokens":5}',
  ].join("\n") + "\n",
);
cli.file("empty.jsonl", "");
cli.file(
  "agents.jsonl",
  '{"id":"wf-1","arrival_s":0,"agents":{"a":{"system_tokens":10,"model":"gpt-9"}},"steps":[{"id":"s0","kind":"llm","agent":"a","input_tokens":20,"output_tokens":5}]}\n',
);

const HOSTS = {
  sim: ["sim"],
  live: ["live", "--emulate", "--speedup", "50"],
} as const;

const ERRORS: { name: string; args: string[]; error: RegExp }[] = [
  { name: "a request id used twice while the first is in flight", args: ["--trace", "dup.jsonl", "--trace-format", "tandem"], error: /dup\.jsonl: request id "r1" appears twice/ },
  { name: "a workflow agent's model that no instance serves", args: ["--workflows", "agents.jsonl"], error: /agents\.jsonl: workflow "wf-1": agents\.a\.model: "gpt-9" is not served/ },
  { name: "an empty trace", args: ["--trace", "empty.jsonl", "--trace-format", "tandem"], error: /empty\.jsonl: no usable rows/ },
  {
    name: "an unknown policy parameter",
    args: ["--dispatch", "round-robin", "--dispatch-param", "nope=1", "--limit", "5"],
    error: /--dispatch: round-robin params: Unrecognized key: "nope"/,
  },
];

function run(host: keyof typeof HOSTS, args: string[], out: string): CliResult {
  return cli.tandem(...HOSTS[host], ...args, "--quiet", "--no-progress", "--out", out);
}

describe("the same bad input, the same answer from every host", () => {
  for (const c of ERRORS) {
    it(`${c.name}: one identical line and exit code 2 from sim and live`, () => {
      const sim = run("sim", c.args, "o-sim");
      const live = run("live", c.args, "o-live");
      expectInputError(sim, c.error);
      expectInputError(live, c.error);
      expect(live.stderr).toBe(sim.stderr);
    });
  }

  it("an over-long prompt (read with --limit) is a rejected call, counted alike by sim and live", () => {
    for (const host of ["sim", "live"] as const) {
      const result = run(host, ["--trace", "long.jsonl", "--trace-format", "tandem", "--limit", "2", "--config", cli.file("short.yaml", SHORT)], `o-${host}`);
      expect(result.code).toBe(0);
      const report = JSON.parse(readFileSync(join(cli.scratch, `o-${host}`, "report.json"), "utf8"));
      expect(report.summary.calls).toMatchObject({ arrived: 2, completed: 1, rejected: 1 });
      expect(readFileSync(join(cli.scratch, `o-${host}`, "calls.csv"), "utf8")).toMatch(/r2,.*exceeds_max_model_len/);
    }
  });

  it("the gateway refuses an unknown policy parameter with the same line and exit code 2", () => {
    const sim = run("sim", ERRORS[3].args, "o-sim");
    const gateway = cli.tandem("gateway", "--emulate", "--port", "0", "--dispatch", "round-robin", "--dispatch-param", "nope=1");
    expectInputError(gateway, ERRORS[3].error);
    expect(gateway.stderr).toBe(sim.stderr);
  });

  it("the gateway answers an over-long prompt and an unserved model with JSON errors and counts them", async () => {
    const gw = await startGateway({
      cluster: { instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1, engine: { max_model_len: 4096 } }] },
      emulate: true,
      speedup: 20,
      port: 0,
    });
    try {
      const post = (body: unknown) => fetch(`${gw.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const long = await post({ model: "llama-3-8b", prompt: Array.from({ length: 9000 }, (_, i) => i % 1000), max_tokens: 5 });
      expect(long.status).toBe(400);
      expect(((await long.json()) as { error: { code: string } }).error.code).toBe("context_length_exceeded");
      const unserved = await post({ model: "gpt-9", prompt: "hi", max_tokens: 5 });
      expect(unserved.status).toBe(404);
      expect(((await unserved.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    } finally {
      const { report } = await gw.shutdown();
      expect(report.summary.calls).toMatchObject({ arrived: 1, rejected: 1 });
    }
  });
});

const SHORT = `
instances:
  - { model: llama-3-8b, gpu: h100-80gb, count: 1, engine: { max_model_len: 4096 } }
`;
