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
      "report.json": "caaf65537121fc3a483924778f87e2a709c4477c3d25e8fc6c9081010cf84138",
      "calls.csv": "886157a4699a7cd3a94c1edef937c2269c9205a7fc0392ee052bc89ba25221be",
    },
  },
  {
    name: "qa-kairos",
    args: ["--app", "qa-router", "--rate", "2", "--count", "30", "--scheduling", "kairos", "--dispatch", "kairos-timeslot"],
    sha256: {
      "report.json": "4632b1a3cc225f24c1e9cd58846e9e59ec6da9d5a93d11d42d7256077e22c0a3",
      "calls.csv": "300388da93a7952e88349a8f717a5f721032c4f2d770dfc08663b0266ae172e7",
      "workflows.csv": "a8270445f592fc0061fb3499750d12e739a3b1ac730185d42a355e88bce142ad",
    },
  },
  {
    name: "supervisor-oracle",
    args: ["--app", "supervisor", "--count", "10", "--rate", "1", "--observe", "oracle", "--dispatch", "prefix-affinity"],
    sha256: {
      "report.json": "a01b69a9bb4018ed3df80cc7ceadce517b30fff79a240533f12ad08dc3df6c0a",
      "calls.csv": "9d031635c7fa8287db087028354f5189426ab2a6368b1db66acbf4384d85a3ad",
      "workflows.csv": "3b5a0c2b552f1e73a8201e13d17787f2bd64a1ead1d5e10383338d84ac09ddba",
    },
  },
  {
    name: "guessing-plas",
    args: ["--app", "guessing-game", "--param", "participants=20", "--count", "3", "--rate", "0.5", "--scheduling", "plas", "--seed", "3"],
    sha256: {
      "report.json": "1c4032079c871fe21451dacb015a5e341a3809a2fe68c85933410e738bd4aec7",
      "calls.csv": "41abf5a99efcb9640b0cf542b6b51580ead420782005e845a7417a181877bce0",
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
