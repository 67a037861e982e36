import { Command } from "commander";
import { gpuNames, gpuSpec } from "../src/model/gpus.ts";
import { modelNames, modelSpec } from "../src/model/models.ts";
import { DISPATCH_POLICIES, SCHEDULING_POLICIES } from "../src/policies/registry.ts";
import { commandDescription } from "./command-list.ts";

/** Lists what names a config or flag may use. */
export function presetsCommand(): Command {
  return new Command("presets").description(commandDescription("presets")).action(() => {
    const lines = ["models:"];
    for (const name of modelNames()) {
      const m = modelSpec(name);
      lines.push(`  ${name.padEnd(14)} ${(m.params / 1e9).toFixed(1)}B params, ${m.layers} layers, ${m.kv_heads} KV heads, context ${m.max_position_embeddings}`);
    }
    lines.push("gpus:");
    for (const name of gpuNames()) {
      const g = gpuSpec(name);
      lines.push(`  ${name.padEnd(14)} ${(g.memory_bytes / 2 ** 30).toFixed(0)} GiB, ${(g.peak_fp16_flops / 1e12).toFixed(0)} TFLOP/s fp16, ${(g.mem_bandwidth_bytes_per_s / 1e12).toFixed(2)} TB/s`);
    }
    lines.push(`scheduling policies: ${Object.keys(SCHEDULING_POLICIES).join(", ")}`);
    lines.push(`dispatch policies: ${Object.keys(DISPATCH_POLICIES).join(", ")}`);
    process.stdout.write(lines.join("\n") + "\n");
  });
}
