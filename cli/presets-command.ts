import { Command } from "commander";
import { gpuNames, gpuSpec } from "../src/model/gpus.ts";
import { modelNames, modelSpec, type ModelSpec } from "../src/model/models.ts";
import { DISPATCH_POLICIES, SCHEDULING_POLICIES } from "../src/policies/registry.ts";
import { commandDescription } from "./command-list.ts";

/** Lists what names a config or flag may use. */
export function presetsCommand(): Command {
  return new Command("presets").description(commandDescription("presets")).action(() => {
    const lines = ["models:"];
    for (const name of modelNames()) {
      const m = modelSpec(name);
      lines.push(`  ${name.padEnd(17)} ${(m.params / 1e9).toFixed(1)}B params, ${m.layers} layers, ${attention(m)}, context ${m.max_position_embeddings}${experts(m)}`);
    }
    lines.push("gpus:");
    for (const name of gpuNames()) {
      const g = gpuSpec(name);
      const fp8 = g.peak_fp8_flops === undefined ? "" : `, ${(g.peak_fp8_flops / 1e12).toFixed(0)} fp8`;
      lines.push(
        `  ${name.padEnd(17)} ${(g.memory_bytes / 2 ** 30).toFixed(0)} GiB, ${(g.peak_fp16_flops / 1e12).toFixed(0)} TFLOP/s fp16${fp8}, ${(g.mem_bandwidth_bytes_per_s / 1e12).toFixed(2)} TB/s`,
      );
    }
    lines.push(`scheduling policies: ${Object.keys(SCHEDULING_POLICIES).join(", ")}`);
    lines.push(`dispatch policies: ${Object.keys(DISPATCH_POLICIES).join(", ")}`);
    process.stdout.write(lines.join("\n") + "\n");
  });
}

function attention(m: ModelSpec): string {
  return m.mla ? `MLA (latent ${m.mla.kv_lora_rank}+${m.mla.qk_rope_head_dim})` : `${m.kv_heads} KV heads`;
}

function experts(m: ModelSpec): string {
  return m.moe ? `, MoE ${m.moe.active_experts} of ${m.moe.experts} experts` : "";
}
