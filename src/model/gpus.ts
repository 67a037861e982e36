import { inputErrorAt } from "./where.ts";

/** One accelerator, from its datasheet. */
export interface GpuSpec {
  name: string;
  /** Device memory as `nvidia-smi` reports it (MiB × 2^20): what vLLM's utilisation fraction applies to. */
  memory_bytes: number;
  /** Dense (no sparsity) FP16/BF16 tensor-core peak. */
  peak_fp16_flops: number;
  mem_bandwidth_bytes_per_s: number;
  /** Per-GPU, per-direction bandwidth an all-reduce ring can use: NVLink, or PCIe where there is none. */
  interconnect_bytes_per_s: number;
}

const MiB = 2 ** 20;

/** Datasheet numbers (NVIDIA A100, H100 SXM5, H200 SXM, L40S datasheets). NVLink figures are the
 *  quoted bidirectional totals halved (A100 600 GB/s, H100/H200 900 GB/s); L40S has only PCIe Gen4 x16. */
// biome-ignore format: preset tables keep each entry's fields grouped on a few lines, as in the sources they copy.
const PRESETS: readonly GpuSpec[] = [
  {
    name: "a100-80gb", // A100 SXM4 80GB
    memory_bytes: 81920 * MiB, peak_fp16_flops: 312e12,
    mem_bandwidth_bytes_per_s: 2039e9, interconnect_bytes_per_s: 300e9,
  },
  {
    name: "a100-40gb", // A100 SXM4 40GB
    memory_bytes: 40960 * MiB, peak_fp16_flops: 312e12,
    mem_bandwidth_bytes_per_s: 1555e9, interconnect_bytes_per_s: 300e9,
  },
  {
    name: "h100-80gb", // H100 SXM5 80GB HBM3
    memory_bytes: 81559 * MiB, peak_fp16_flops: 989e12,
    mem_bandwidth_bytes_per_s: 3.35e12, interconnect_bytes_per_s: 450e9,
  },
  {
    name: "h200", // H200 SXM 141GB HBM3e
    memory_bytes: 143771 * MiB, peak_fp16_flops: 989e12,
    mem_bandwidth_bytes_per_s: 4.8e12, interconnect_bytes_per_s: 450e9,
  },
  {
    name: "l40s", // L40S 48GB GDDR6 (ECC on)
    memory_bytes: 46068 * MiB, peak_fp16_flops: 362e12,
    mem_bandwidth_bytes_per_s: 864e9, interconnect_bytes_per_s: 32e9,
  },
];

// Frozen: every caller shares these objects.
const BY_NAME = new Map(PRESETS.map((spec) => [spec.name, Object.freeze(spec)]));

/** Short names; a bare `a100` means the 80GB part (the one serving clusters mostly run). */
const ALIASES: Record<string, string> = {
  a100: "a100-80gb",
  h100: "h100-80gb",
  "h200-141gb": "h200",
  "l40s-48gb": "l40s",
};

/** Canonical key: lower case, no `nvidia-` prefix, form factor (`-sxm4`) dropped, `80g` → `80gb`. */
export function normaliseGpuName(name: string): string {
  let key = name.trim().toLowerCase().replace(/[\s_]+/g, "-");
  key = key.replace(/^nvidia-/, "").replace(/-sxm\d?/, "").replace(/-hbm3e?$/, "");
  key = key.replace(/-?(\d+)g$/, "-$1gb").replace(/-?(\d+)gb$/, "-$1gb");
  return ALIASES[key] ?? key;
}

export function gpuNames(): string[] {
  return PRESETS.map((spec) => spec.name);
}

/** The preset for `name` (case-insensitive, aliases accepted); `where` prefixes the error message. */
export function gpuSpec(name: string, where?: string): GpuSpec {
  const spec = BY_NAME.get(normaliseGpuName(name));
  if (spec) return spec;
  throw inputErrorAt(where, `gpu "${name}": unknown; expected one of ${gpuNames().join(", ")}`);
}
