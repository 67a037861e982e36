import { inputErrorAt } from "./where.ts";

/** One accelerator, from its datasheet. */
export interface GpuSpec {
  name: string;
  /** Device memory as `nvidia-smi` reports it (MiB × 2^20): what vLLM's utilisation fraction applies to. */
  memory_bytes: number;
  /** Dense (no sparsity) FP16/BF16 tensor-core peak. */
  peak_fp16_flops: number;
  /** Dense FP8 tensor-core peak, for FP8 weights; undefined where the part has no FP8 tensor cores
   *  (Ampere: A100, A10G). */
  peak_fp8_flops?: number;
  mem_bandwidth_bytes_per_s: number;
  /** Per-GPU, per-direction bandwidth an all-reduce ring can use: NVLink, or PCIe where there is none. */
  interconnect_bytes_per_s: number;
}

const MiB = 2 ** 20;

/** Datasheet numbers: NVIDIA A100, H100 (SXM5 and PCIe), H200, L40S, L4, A10, HGX B200 datasheets
 *  and AMD's Instinct MI300X data sheet. FLOPs are dense: the datasheets' "with sparsity" figures
 *  halved. NVLink figures are the quoted bidirectional totals halved (A100 600 GB/s, H100/H200
 *  900 GB/s, B200 1.8 TB/s); MI300X: 7 Infinity Fabric links of 64 GB/s each way to its 7 peers.
 *  PCIe-only parts (L40S, L4, A10G, H100 PCIe beyond an NVLink-bridged pair) get PCIe x16 per
 *  direction: Gen4 32 GB/s, Gen5 64 GB/s. Memory is what nvidia-smi / rocm-smi report. */
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
    name: "h100-80gb", // H100 SXM5 80GB HBM3: FP8 3958 TFLOPs with sparsity
    memory_bytes: 81559 * MiB, peak_fp16_flops: 989e12, peak_fp8_flops: 1979e12,
    mem_bandwidth_bytes_per_s: 3.35e12, interconnect_bytes_per_s: 450e9,
  },
  {
    name: "h200", // H200 SXM 141GB HBM3e: the H100's compute with more, faster memory
    memory_bytes: 143771 * MiB, peak_fp16_flops: 989e12, peak_fp8_flops: 1979e12,
    mem_bandwidth_bytes_per_s: 4.8e12, interconnect_bytes_per_s: 450e9,
  },
  {
    name: "l40s", // L40S 48GB GDDR6 (ECC on): FP8 1466 TFLOPs with sparsity
    memory_bytes: 46068 * MiB, peak_fp16_flops: 362e12, peak_fp8_flops: 733e12,
    mem_bandwidth_bytes_per_s: 864e9, interconnect_bytes_per_s: 32e9,
  },
  {
    name: "b200", // HGX B200 180GB HBM3e: per GPU 4.5 PF BF16 / 9 PF FP8 with sparsity, 8 TB/s, NVLink 5
    memory_bytes: 183359 * MiB, peak_fp16_flops: 2250e12, peak_fp8_flops: 4500e12,
    mem_bandwidth_bytes_per_s: 8e12, interconnect_bytes_per_s: 900e9,
  },
  {
    name: "h100-pcie", // H100 PCIe 80GB HBM2e: 1513 TF BF16 / 3026 TF FP8 with sparsity, 2 TB/s, PCIe Gen5
    memory_bytes: 81559 * MiB, peak_fp16_flops: 756e12, peak_fp8_flops: 1513e12,
    mem_bandwidth_bytes_per_s: 2.0e12, interconnect_bytes_per_s: 64e9,
  },
  {
    name: "l4", // L4 24GB GDDR6: 242 TF BF16 / 485 TF FP8 with sparsity, 300 GB/s, PCIe Gen4
    memory_bytes: 23034 * MiB, peak_fp16_flops: 121e12, peak_fp8_flops: 242e12,
    mem_bandwidth_bytes_per_s: 300e9, interconnect_bytes_per_s: 32e9,
  },
  {
    name: "a10g", // AWS A10G 24GB GDDR6 (the A10's GA102): 125 TF BF16 dense, 600 GB/s, PCIe Gen4
    memory_bytes: 23028 * MiB, peak_fp16_flops: 125e12,
    mem_bandwidth_bytes_per_s: 600e9, interconnect_bytes_per_s: 32e9,
  },
  {
    name: "mi300x", // AMD Instinct MI300X 192GB HBM3: 1307.4 TF BF16 / 2614.9 TF FP8 dense, 5.3 TB/s
    memory_bytes: 205_822_885_888, peak_fp16_flops: 1307.4e12, peak_fp8_flops: 2614.9e12,
    mem_bandwidth_bytes_per_s: 5.3e12, interconnect_bytes_per_s: 448e9,
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
  "b200-180gb": "b200",
  "b200-192gb": "b200",
  "h100-pcie-80gb": "h100-pcie",
  "l4-24gb": "l4",
  "a10g-24gb": "a10g",
  "mi300x-192gb": "mi300x",
};

/** Canonical key: lower case, no `nvidia-` or `amd-instinct-` prefix, form factor (`-sxm4`) dropped,
 *  `80g` → `80gb`. */
export function normaliseGpuName(name: string): string {
  let key = name
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, "-");
  key = key
    .replace(/^nvidia-/, "")
    .replace(/^amd-(instinct-)?/, "")
    .replace(/-sxm\d?/, "")
    .replace(/-hbm3e?$/, "");
  // A full part name is kept as it is: `a10g` is a GPU, not "a1 with 0 GB".
  if (BY_NAME.has(key)) return key;
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
