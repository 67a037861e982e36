/** A fixed set of `tandem sim` runs, run as a user runs them, whose report.json, calls.csv and
 *  workflows.csv must stay byte-identical to the recorded ones: the simulator is deterministic, so
 *  any change to these bytes is a change of behaviour (or of format) and must be meant. */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox } from "../helpers/cli.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const CONFIG = join(REPO_ROOT, "test/fixtures/golden-tiers.yaml");

interface GoldenRun {
  name: string;
  /** `tandem sim` arguments; CONFIG stands for test/fixtures/golden-tiers.yaml. */
  args: string[];
  /** SHA-256 of each file the run writes into --out. */
  sha256: Record<string, string>;
}

const RUNS: GoldenRun[] = [
  {
    name: "default",
    args: ["--limit", "300"],
    sha256: {
      "report.json": "794b41a317bce7492a48e079676de38d1d7a0c94cb01e61ed0877307864c1d75",
      "calls.csv": "fad12cb0fbb49b55f32e44269c4afb3da7fd0117be8984cdf193caec0a1733ae",
    },
  },
  {
    name: "qa-kairos",
    args: ["--app", "qa-router", "--rate", "2", "--count", "30", "--scheduling", "kairos", "--dispatch", "kairos-timeslot"],
    sha256: {
      "report.json": "d5a84885c2fdc396aff3eb09b6292d2b2c2c6109b108a28860e358d44f32503c",
      "calls.csv": "e4ec67314cd846083751c79d9e805c3c78dd3299b0af2bf36a2b00e9e8123078",
      "workflows.csv": "a8270445f592fc0061fb3499750d12e739a3b1ac730185d42a355e88bce142ad",
    },
  },
  {
    name: "supervisor-oracle",
    args: ["--app", "supervisor", "--count", "10", "--rate", "1", "--observe", "oracle", "--dispatch", "prefix-affinity"],
    sha256: {
      "report.json": "cb66b01c62b6d9c3797a27d325a2d63592e16a9d9864a5484ee9581f7eab6abe",
      "calls.csv": "edee8fea644958b495e058fa604dc6fe40c93a248a7f314312b28c3df109e54e",
      "workflows.csv": "3b5a0c2b552f1e73a8201e13d17787f2bd64a1ead1d5e10383338d84ac09ddba",
    },
  },
  {
    name: "guessing-plas",
    args: ["--app", "guessing-game", "--param", "participants=20", "--count", "3", "--rate", "0.5", "--scheduling", "plas", "--seed", "3"],
    sha256: {
      "report.json": "750c3df2e65e0bdbd01ac7327d5aae01da11640043dfb682b15093b683c6dd7d",
      "calls.csv": "1e5f6e96753d230c1c71ca806058991c8f5cbbd575e45b5b3564fcc7f1058ac6",
      "workflows.csv": "706ede315ee5b9a6e3a9f53207ac3f21b2f9a87ad7a36ecd572c897252d31ce8",
    },
  },
  {
    name: "tiers",
    args: ["--config", "CONFIG", "--limit", "400", "--rate", "40", "--dispatch", "least-kv"],
    sha256: {
      "report.json": "25de53fb1e540b581c0a27adc6733790651bad82b55895f4e1e290219e184a53",
      "calls.csv": "661031aff90220f77cc2514d7cfce88a2dea8feab59de9b843ae5ff9ec7d9aed",
    },
  },
];

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("reports of a fixed set of runs are byte-identical to the recorded ones", () => {
  const { scratch, tandem } = cliSandbox("tandem-golden-");

  for (const run of RUNS) {
    const shown = run.args.join(" ").replace("CONFIG", "test/fixtures/golden-tiers.yaml");
    it(`${run.name}: tandem sim ${shown}`, () => {
      const out = join(scratch, run.name);
      const args = run.args.map((a) => (a === "CONFIG" ? CONFIG : a));
      const result = tandem("sim", ...args, "--out", out, "--quiet", "--no-progress");
      expect(result.code, result.stderr).toBe(0);
      const changed: string[] = [];
      for (const [file, recorded] of Object.entries(run.sha256)) {
        const path = join(out, file);
        const actual = existsSync(path) ? sha256(path) : "(not written)";
        if (actual !== recorded) changed.push(`${file}: sha256 ${actual}, recorded ${recorded}`);
      }
      expect(
        changed,
        `run "${run.name}" (tandem sim ${shown}) changed:\n  ${changed.join("\n  ")}\n` +
          `If the change is intended, record the new hashes in RUNS of test/sim/golden-reports.test.ts; get them with\n` +
          `  node bin/tandem.mjs sim ${shown} --out /tmp/golden-${run.name} --quiet --no-progress && sha256sum /tmp/golden-${run.name}/*`,
      ).toEqual([]);
    });
  }
});
