/** live/profile/profile-gpu.py: its CSV is tandem's profile CSV (checked without PyTorch through
 *  its pure functions), its command line, and — where PyTorch is installed — a CPU smoke run of
 *  the tiny preset whose CSV calibration accepts. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { PROFILE_CSV_HEADER, calibrateGroup, groupMeasurements, parseProfileCsv, profileMeasurements } from "../../sim/calibrate/index.ts";
import { optional, required } from "../helpers/requirements.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const SCRIPT = join(REPO_ROOT, "live/profile/profile-gpu.py");
const scratch = mkdtempSync(join(tmpdir(), "tandem-profile-gpu-"));

function python(args: string[], timeout = 60_000) {
  const run = spawnSync("python3", args, { cwd: scratch, encoding: "utf8", timeout, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
  return { code: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "", error: run.error };
}

const hasPython = python(["-c", "import sys; print(sys.version_info[0])"]).stdout.trim() === "3";
const hasTorch = hasPython && python(["-c", "import torch"]).code === 0;
// python3 is required (CI installs it): the CSV and command-line checks need nothing else.
const withPython = required(hasPython ? undefined : "python3 is not installed (profile-gpu.py's CSV and command line go untested)");
// PyTorch is optional, even in CI: it is a multi-GiB install for one CPU smoke run, and the script's
// CSV rows and command line are checked above without it. So this skip is legitimate everywhere.
const withTorch = optional(hasTorch ? undefined : "PyTorch is not installed (python3 -c 'import torch' fails): no CPU smoke run of profile-gpu.py");

withPython.describe("profile-gpu.py", () => {
  it("writes tandem's profile CSV: the same header, rows that calibration reads", () => {
    const out = join(scratch, "rows.csv");
    // The script's own row builder and writer (pure Python, no torch), called through importlib.
    const code = [
      "import importlib.util, sys",
      `spec = importlib.util.spec_from_file_location("profile_gpu", ${JSON.stringify(SCRIPT)})`,
      'm = importlib.util.module_from_spec(spec); sys.modules["profile_gpu"] = m; spec.loader.exec_module(m)',
      "rows = []",
      "for b, p in [(1, 128), (4, 512), (2, 2048)]:",
      "    steps = [0.001 * p / 64 + 0.004 * b] + [0.007 + 0.0002 * b] * 15",
      "    rows += m.batch_rows(model='llama-3-8b', gpu='NVIDIA H100 80GB HBM3', batch_id=f'p{p}-b{b}-o16-r1', batch_size=b, prompt=p, output=16,",
      "                         step_times_s=steps, started_at='2025-01-01T00:00:00.000Z', engine_version='pytorch 2.5.1 eager bf16 (profile-gpu.py)')",
      "rows += m.batch_rows(model='llama-3-8b', gpu='NVIDIA H100 80GB HBM3', batch_id='one', batch_size=1, prompt=64, output=1,",
      "                     step_times_s=[0.01], started_at='2025-01-01T00:00:00.000Z', engine_version='x')",
      `m.write_csv(${JSON.stringify(out)}, rows)`,
    ].join("\n");
    const run = python(["-c", code]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text.split("\n")[0]).toBe(PROFILE_CSV_HEADER);
    const parsed = parseProfileCsv(text, out);
    expect(parsed).toHaveLength(1 + 4 + 2 + 1);
    expect(parsed[1]!.row).toMatchObject({ batch_id: "p512-b4-o16-r1", batch_size: 4, request_index: 0, prompt_tokens: 512, output_tokens: 16, cached_tokens: 0, preemptions: 0 });
    expect(parsed[1]!.row.ttft_s).toBeCloseTo(0.024, 9);
    expect(parsed[1]!.row.tpot_s).toBeCloseTo(0.0078, 9);
    expect(parsed.at(-1)!.row.tpot_s).toBeUndefined();
    const { measurements, excluded } = profileMeasurements(parsed, out);
    expect(excluded).toHaveLength(0);
    // nvidia-smi's name resolves to the preset.
    expect(groupMeasurements(measurements)[0]).toMatchObject({ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1 });
  });

  it("documents itself in --help and refuses bad flags with one line and exit code 2", () => {
    const help = python([SCRIPT, "--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--model", "--out", "--device", "--dtype", "--batch-sizes", "--prompts", "--outputs", "--layers", "llama-3-8b (32 layers", "tiny"])
      expect(help.stdout).toContain(flag);
    const bad = [
      [["--model", "gpt-9", "--out", "x.csv"], /--model "gpt-9": unknown; expected one of llama-2-7b/],
      [["--model", "tiny", "--out", "x.csv", "--prompts", "16,x"], /--prompts: "x" is not an integer >= 1/],
      [["--model", "llama-2-7b", "--out", "x.csv", "--prompts", "4096"], /prompt 4096 \+ output 128 tokens exceed llama-2-7b's 4096 positions/],
      [["--model", "tiny", "--out", "x.csv", "--heads", "3"], /--hidden 64 is not a multiple of --heads 3/],
    ] as const;
    for (const [args, pattern] of bad) {
      const run = python([SCRIPT, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(pattern);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  withTorch.it("runs the tiny preset on the CPU and writes a profile calibration accepts (needs PyTorch)", () => {
    const out = join(scratch, "smoke.csv");
    const run = python([SCRIPT, "--model", "tiny", "--device", "cpu", "--dtype", "fp32", "--prompts", "16,64", "--batch-sizes", "1,2", "--outputs", "4", "--out", out, "--quiet"], 300_000);
    expect(run.stderr).toMatch(/wrote 6 rows \(4 static batches\)/);
    expect(run.code).toBe(0);
    const parsed = parseProfileCsv(readFileSync(out, "utf8"), out);
    expect(parsed).toHaveLength(6);
    expect(parsed[0]!.row).toMatchObject({ model: "tiny", gpu: "cpu", prompt_tokens: 16, output_tokens: 4 });
    const { measurements, excluded } = profileMeasurements(parsed, out);
    const calibration = calibrateGroup(groupMeasurements(measurements, excluded)[0]!, { fit: { form: "basic" }, folds: 0 });
    expect(calibration.document.coefficients.overhead_s).toBeGreaterThan(0);
  });
});
