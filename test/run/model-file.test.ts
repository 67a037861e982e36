/** Instances whose model is a HuggingFace config.json, and vLLM's max_model_len rule. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { LLAMA_31_8B_CONFIG } from "../helpers/hf-configs.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { ClusterConfigSchema, type ClusterConfig } from "../../src/model/cluster-schema.ts";
import { defaultMaxModelLen } from "../../src/model/max-model-len.ts";
import { modelSpec } from "../../src/model/models.ts";
import { buildInstances } from "../../run/instances.ts";
import { resolveModel } from "../../run/model-file.ts";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";
import { SHARED_DATA } from "../helpers/shared-data.ts";
import { sharedData } from "../helpers/requirements.ts";

const LLAMA_31_8B = { ...LLAMA_31_8B_CONFIG, tie_word_embeddings: false };

/** A scratch folder with `models/My-Llama/config.json` and a cluster file beside it. */
function scratch(): { dir: string; cluster: string } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-model-file-"));
  mkdirSync(join(dir, "models/My-Llama"), { recursive: true });
  writeFileSync(join(dir, "models/My-Llama/config.json"), JSON.stringify(LLAMA_31_8B));
  writeFileSync(join(dir, "models/bad.json"), JSON.stringify({ ...LLAMA_31_8B, num_hidden_layers: -1 }));
  return { dir, cluster: join(dir, "cluster.yaml") };
}

const cluster = (model: string, extra: Record<string, unknown> = {}): ClusterConfig => ClusterConfigSchema.parse({ instances: [{ model, gpu: "h100-80gb", count: 4, ...extra }] });

describe("defaultMaxModelLen (vLLM's rule)", () => {
  it("is the model's context when the KV cache holds one such sequence", () => {
    expect(defaultMaxModelLen(modelSpec("llama-3.1-8b"), 131072)).toBe(131072);
    expect(defaultMaxModelLen(modelSpec("llama-3.1-8b"), 400_000)).toBe(131072);
  });

  it("otherwise refuses, suggesting the capacity as max_model_len", () => {
    expect(() => defaultMaxModelLen(modelSpec("llama-3.1-8b"), 131056, "c.yaml: instances[0]")).toThrow(InputError);
    expect(() => defaultMaxModelLen(modelSpec("llama-3.1-8b"), 131056, "c.yaml: instances[0]")).toThrow(
      "c.yaml: instances[0]: llama-3.1-8b's context 131072 tokens does not fit the KV cache (131056 tokens); set engine.max_model_len ≤ 131056",
    );
  });
});

describe("buildInstances", () => {
  it("builds 4 × llama-3.1-8b on h100-80gb with max_model_len 131072", async () => {
    const instances = await buildInstances(cluster("llama-3.1-8b"), "c.yaml");
    expect(instances).toHaveLength(4);
    expect(instances[0].spec.max_model_len).toBe(131072);
    expect(instances[0].spec.kv_capacity_tokens).toBeGreaterThan(131072);
    expect(instances[0].model_file).toBeUndefined();
  });

  it("refuses a defaulted context the KV cache cannot hold, and accepts the suggested value", async () => {
    const small = cluster("llama-3.1-8b", { engine: { num_gpu_blocks_override: 4096 } }); // 65536 tokens
    await expect(buildInstances(small, "c.yaml")).rejects.toThrow(
      "c.yaml: instances[0]: llama-3.1-8b's context 131072 tokens does not fit the KV cache (65536 tokens); set engine.max_model_len ≤ 65536",
    );
    const fixed = cluster("llama-3.1-8b", { engine: { num_gpu_blocks_override: 4096, max_model_len: 65536 } });
    expect((await buildInstances(fixed, "c.yaml"))[0].spec.max_model_len).toBe(65536);
  });

  it("reads a config.json path or its folder relative to the cluster file, naming the model after the folder", async () => {
    const { cluster: file } = scratch();
    for (const model of ["models/My-Llama/config.json", "models/My-Llama", "./models/My-Llama/"]) {
      const [first] = await buildInstances(cluster(model), file);
      expect(first.spec.model).toBe("my-llama");
      expect(first.spec.id).toBe("my-llama-0");
      expect(first.spec.max_model_len).toBe(131072);
      expect(first.model_file).toEqual({ path: model, spec: { ...modelSpec("llama-3.1-8b"), name: "my-llama" } });
      // Same shapes as the preset, so the same KV capacity.
      const [preset] = await buildInstances(cluster("llama-3.1-8b"), file);
      expect(first.spec.kv_capacity_tokens).toBe(preset.spec.kv_capacity_tokens);
    }
  });

  sharedData("models").it("reads the shared configs (MoE and MLA included) into instances", async () => {
    const file = join(SHARED_DATA, "cluster.yaml"); // not read: it anchors the relative paths
    for (const [folder, name] of [
      ["qwen3-30b-a3b", "qwen3-30b-a3b"],
      ["deepseek-v2-lite", "deepseek-v2-lite"],
      ["mixtral-8x7b-v0.1", "mixtral-8x7b"],
    ]) {
      const config = ClusterConfigSchema.parse({
        instances: [{ model: `models/${folder}`, gpu: "h100-80gb", tensor_parallel: 2, engine: { max_model_len: 32768 } }],
      });
      const [instance] = await buildInstances(config, file);
      expect(instance.spec.model).toBe(name);
      expect(instance.spec.kv_capacity_tokens).toBeGreaterThan(32768);
    }
  });

  it("rejects a bad config.json, a missing one and an unknown name in one line each", async () => {
    const { dir, cluster: file } = scratch();
    await expect(buildInstances(cluster("models/bad.json"), file)).rejects.toThrow(`${join(dir, "models/bad.json")}: num_hidden_layers: expected an integer ≥ 1 (got -1)`);
    await expect(buildInstances(cluster("models/none/config.json"), file)).rejects.toThrow(/models\/none\/config\.json: cannot read model config \(no such file\)$/);
    mkdirSync(join(dir, "models/empty"));
    await expect(buildInstances(cluster("models/empty"), file)).rejects.toThrow(/instances\[0\]\.model: model "models\/empty": the folder .*empty holds no config\.json$/);
    await expect(buildInstances(cluster("gpt-9"), file)).rejects.toThrow(
      /instances\[0\]\.model: model "gpt-9": unknown; expected one of .*, or a path to a config\.json \(or a folder holding one\)$/,
    );
  });

  it("prefers a preset when a same-named folder holds no config.json", async () => {
    const { dir } = scratch();
    mkdirSync(join(dir, "llama-3-8b"));
    expect((await resolveModel("llama-3-8b", dir, "c.yaml: instances[0].model")).spec).toBe(modelSpec("llama-3-8b"));
  });
});

describe("tandem sim with a config.json model", () => {
  const cli = cliSandbox("tandem-model-file-cli-");
  mkdirSync(join(cli.scratch, "ckpt"));
  cli.file("ckpt/config.json", JSON.stringify({ ...LLAMA_31_8B, _name_or_path: "acme/Acme-8B" }));
  cli.file("cluster.yaml", "instances:\n  - model: ckpt/config.json\n    gpu: h100\n    count: 2\n");
  cli.file("bad.yaml", "instances:\n  - model: ckpt/missing.json\n    gpu: h100\n");

  it("runs, and the report records the path as given and the shapes read", () => {
    const result = cli.tandem("sim", "--config", "cluster.yaml", "--limit", "20", "--quiet", "--no-progress", "--out", "out");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(cli.scratch, "out/report.json"), "utf8"));
    expect(report.run.config.instances[0].model).toBe("ckpt/config.json");
    expect(report.run.model_files).toEqual([{ path: "ckpt/config.json", spec: { ...modelSpec("llama-3.1-8b"), name: "acme-8b" } }]);
    expect(report.instances.map((i: { id: string }) => i.id)).toEqual(["acme-8b-0", "acme-8b-1"]);
  });

  it("exits 2 with one line when the file is missing", () => {
    expectInputError(cli.tandem("sim", "--config", "bad.yaml", "--limit", "5", "--quiet", "--no-progress", "--out", "bad"), /ckpt\/missing\.json: cannot read model config \(no such file\)/);
  });
});
