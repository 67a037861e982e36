import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../../src/core/errors.ts";
import { parseClusterConfig } from "../../../run/config-file.ts";
import { vllmEngineFlags } from "../../../live/launch/engine-flags.ts";
import { assignGpus, parseGpuList, totalNeeded } from "../../../live/launch/gpus.ts";
import { hfRepoFor, PRESET_HF_REPOS } from "../../../live/launch/hf-repos.ts";
import { planLaunch } from "../../../live/launch/plan.ts";
import { checkTemplate, commandWords, renderCommand, shellLine } from "../../../live/launch/template.ts";
import { withEndpoints } from "../../../live/launch/index.ts";
import { modelNames } from "../../../src/model/models.ts";
import { LLAMA_31_8B_CONFIG } from "../../helpers/hf-configs.ts";

const scratch = mkdtempSync(join(tmpdir(), "tandem-launch-plan-"));
const FILE = join(scratch, "cluster.yaml");
const config = (yaml: string) => parseClusterConfig(yaml, FILE);

describe("command templates", () => {
  it("splits a command string into words as a shell does, quotes and escapes kept together", () => {
    expect(commandWords(`vllm serve {model} --x 'a b' "c \\"d\\"" e\\ f`, "t")).toEqual(["vllm", "serve", "{model}", "--x", "a b", 'c "d"', "e f"]);
    expect(commandWords(["a b", "{port}"], "t")).toEqual(["a b", "{port}"]);
    expect(() => commandWords("vllm 'serve", "cluster.yaml: launch.command")).toThrow(/cluster.yaml: launch.command: unclosed ' quote/);
  });

  it("fills placeholders, expands {engine_args} into words, keeps {{ }} as braces", () => {
    const words = commandWords("run {model}:{port} {engine_args} --json={{}} --tp={tp}", "t");
    checkTemplate(words, "t");
    const argv = renderCommand(words, {
      model: "m/x",
      model_name: "x",
      served_model_name: "x",
      host: "h",
      port: 9,
      tp: 2,
      gpu: "h100-80gb",
      gpus: "0,1",
      instance: "x-0",
      index: 0,
      config: "",
      engine_args: ["--a", "1"],
    });
    expect(argv).toEqual(["run", "m/x:9", "--a", "1", "--json={}", "--tp=2"]);
  });

  it("refuses an unknown placeholder, naming it and the field, and {engine_args} inside a word", () => {
    expect(() => checkTemplate(["vllm", "--port={prot}"], "c.yaml: launch.command")).toThrow(/c.yaml: launch.command: unknown placeholder \{prot\}; expected one of \{model\}/);
    expect(() => checkTemplate(["x{engine_args}"], "f")).toThrow(/word of its own/);
  });

  it("quotes words for a shell line only where needed", () => {
    expect(shellLine(["vllm", "a b", "it's", "x=1,2"])).toBe(`vllm 'a b' 'it'\\''s' x=1,2`);
  });
});

describe("engine knobs as vLLM flags", () => {
  it("passes exactly the knobs set, booleans as --X / --no-X, and none of the simulator-only ones", () => {
    expect(
      vllmEngineFlags({
        max_num_seqs: 128,
        max_num_batched_tokens: 4096,
        block_size: 32,
        gpu_memory_utilization: 0.85,
        max_model_len: 8192,
        enable_chunked_prefill: false,
        enable_prefix_caching: true,
        scheduling_policy: "priority",
        num_gpu_blocks_override: 1000,
        max_waiting: 10,
        cpu_kv_blocks: 5,
        api_latency_s: 0.001,
      }),
    ).toEqual([
      "--max-num-seqs",
      "128",
      "--max-num-batched-tokens",
      "4096",
      "--block-size",
      "32",
      "--gpu-memory-utilization",
      "0.85",
      "--max-model-len",
      "8192",
      "--no-enable-chunked-prefill",
      "--enable-prefix-caching",
      "--scheduling-policy",
      "priority",
      "--num-gpu-blocks-override",
      "1000",
    ]);
    expect(vllmEngineFlags({})).toEqual([]);
  });
});

describe("GPU assignment", () => {
  it("hands out tensor_parallel GPUs per instance in order; colocated instances share one set", () => {
    const needs = [
      { instance: "a-0", tensor_parallel: 2 },
      { instance: "a-1", tensor_parallel: 2 },
      { instance: "s", tensor_parallel: 1, colocate: "pool" },
      { instance: "t", tensor_parallel: 1, colocate: "pool" },
    ];
    expect(totalNeeded(needs)).toBe(5);
    expect(assignGpus(needs, ["0", "1", "2", "3", "4"], "--gpus")).toEqual([["0", "1"], ["2", "3"], ["4"], ["4"]]);
  });

  it("fewer GPUs than the config needs is an error naming the instance and the total", () => {
    const needs = [
      { instance: "big-0", tensor_parallel: 4 },
      { instance: "big-1", tensor_parallel: 4 },
    ];
    expect(() => assignGpus(needs, ["0", "1", "2", "3", "4", "5"], "--gpus (0,1,2,3,4,5)")).toThrow(
      "launch: instance big-1 needs 4 GPUs but only 2 of the 6 in --gpus (0,1,2,3,4,5) are left; the config needs 8",
    );
  });

  it("parses lists and refuses duplicates and junk", () => {
    expect(parseGpuList("0, 1,2", "--gpus")).toEqual(["0", "1", "2"]);
    expect(parseGpuList([0, "GPU-5f2c"], "x")).toEqual(["0", "GPU-5f2c"]);
    expect(() => parseGpuList("0,0", "--gpus")).toThrow("--gpus: GPU 0 is listed twice");
    expect(() => parseGpuList("0;1", "--gpus")).toThrow(/not a GPU id/);
  });
});

describe("model checkpoints", () => {
  it("knows a HuggingFace repo for every model preset", () => {
    expect(Object.keys(PRESET_HF_REPOS).sort()).toEqual([...modelNames()].sort());
    for (const repo of Object.values(PRESET_HF_REPOS)) expect(repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
  });

  it("maps aliases to the preset's repo and keeps a repo id as written", () => {
    expect(hfRepoFor("Llama-3.1-8B")).toBe("meta-llama/Llama-3.1-8B-Instruct");
    expect(hfRepoFor("meta-llama/Meta-Llama-3-8B")).toBe("meta-llama/Meta-Llama-3-8B");
    expect(hfRepoFor("gpt-17")).toBeUndefined();
  });
});

describe("planLaunch", () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it("renders vLLM's command per instance: checkpoint, TP, served name, knobs (group over cluster), args, env and GPUs", async () => {
    const plan = await planLaunch(
      config(`
instances:
  - name: big
    model: llama-3.1-70b
    gpu: h100-80gb
    tensor_parallel: 2
    count: 2
    engine: { max_num_seqs: 64 }
    served_model_name: llama70
    launch: { args: [--enforce-eager], env: { A: group } }
engine: { max_num_seqs: 128, enable_prefix_caching: false, max_model_len: 16384 }
launch:
  args: [--disable-log-requests]
  env: { VLLM_SERVER_DEV_MODE: "1", A: cluster }
  log_dir: engine-logs
`),
      FILE,
      { gpus: "3,2,1,0" },
    );
    expect(plan.instances.map((i) => i.id)).toEqual(["big-0", "big-1"]);
    const [first, second] = plan.instances;
    expect(first.argv).toEqual([
      "vllm",
      "serve",
      "meta-llama/Llama-3.1-70B-Instruct",
      "--host",
      "127.0.0.1",
      "--port",
      String(first.port),
      "--tensor-parallel-size",
      "2",
      "--served-model-name",
      "llama70",
      "--max-num-seqs",
      "64",
      "--max-model-len",
      "16384",
      "--no-enable-prefix-caching",
      "--disable-log-requests",
      "--enforce-eager",
    ]);
    expect(first.env).toEqual({ VLLM_SERVER_DEV_MODE: "1", A: "group", CUDA_VISIBLE_DEVICES: "3,2" });
    expect(second.env.CUDA_VISIBLE_DEVICES).toBe("1,0");
    expect(first.port).not.toBe(second.port);
    expect(first.url).toBe(`http://127.0.0.1:${first.port}`);
    expect(first.log_file).toBe(join(scratch, "engine-logs", "big-0.log"));
    expect(withEndpoints(config("instances: [{model: llama-3.1-70b, gpu: h100-80gb, tensor_parallel: 2, count: 2}]"), plan).instances[0].endpoints).toEqual([first.url, second.url]);
  });

  it("serves a config.json model from its folder, and launch.model relative to the config file", async () => {
    const folder = join(scratch, "models", "my-llama");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "config.json"), JSON.stringify(LLAMA_31_8B_CONFIG));
    const plan = await planLaunch(
      config(`
instances:
  - { name: a, model: models/my-llama, gpu: h100-80gb }
  - { name: b, model: llama-3.1-8b, gpu: h100-80gb, launch: { model: ./weights/llama } }
`),
      FILE,
      { gpus: "0,1" },
    );
    expect(plan.instances[0].argv[2]).toBe(folder);
    expect(plan.instances[0].served_model).toBe("models/my-llama");
    expect(plan.instances[1].argv[2]).toBe(join(scratch, "weights/llama"));
  });

  it("the emulate engine runs `tandem emulate` on the instance's own config and needs no GPUs", async () => {
    const plan = await planLaunch(config("instances: [{name: e, model: llama-3.1-8b, gpu: h100-80gb, count: 2}]\nengine: {max_num_seqs: 32}\n"), FILE, { engine: "emulate" });
    const [e0] = plan.instances;
    expect(e0.argv.slice(2, 4)).toEqual(["emulate", "--config"]);
    expect(e0.argv[4]).toBe(e0.instance_config?.path);
    expect(e0.instance_config?.document).toEqual({ instances: [{ name: "e-0", model: "llama-3.1-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1 }], engine: { max_num_seqs: 32 } });
    expect(e0.env).toEqual({});
    expect(e0.gpus).toEqual([]);
  });

  it("a fixed port base gives consecutive ports, and a taken one is an error naming the instance", async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const taken = (server.address() as { port: number }).port;
    const cfg = config("instances: [{name: e, model: llama-3.1-8b, gpu: h100-80gb, count: 2}]\n");
    await expect(planLaunch(cfg, FILE, { engine: "emulate", port: taken - 1 })).rejects.toThrow(
      new InputError(`launch: instance e-1: port ${taken} on 127.0.0.1 is taken; free it, or set launch.port to another base (0 picks free ports)`),
    );
  });

  it("refuses a template with an unknown placeholder, naming the config field", async () => {
    await expect(planLaunch(config("instances: [{model: llama-3.1-8b, gpu: h100-80gb}]\nlaunch: {command: 'serve {modle}'}\n"), FILE, { gpus: "0" })).rejects.toThrow(
      /cluster.yaml: launch.command: unknown placeholder \{modle\}/,
    );
  });

  it("the config's launch section is validated strictly", () => {
    expect(() => config("instances: [{model: llama-3.1-8b, gpu: h100-80gb}]\nlaunch: {port: 70000}\n")).toThrow(/launch.port/);
    expect(() => config("instances: [{model: llama-3.1-8b, gpu: h100-80gb}]\nlaunch: {engine: sglang}\n")).toThrow(/launch.engine/);
    expect(() => config("instances: [{model: llama-3.1-8b, gpu: h100-80gb, launch: {gpus: '0'}}]\n")).toThrow(/instances\[0\].launch/);
  });
});
