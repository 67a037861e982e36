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
      "report.json": "ca033979e83442126c15f97b8b42eebd051b57761a7b1d6626af28913e0086b3",
      "calls.csv": "b352aed3db8afb3ab985791f7ccbd0473997c05e71196fa4b138f0bb2d0f0455",
    },
  },
  {
    name: "qa-kairos",
    args: ["--app", "qa-router", "--rate", "2", "--count", "30", "--scheduling", "kairos", "--dispatch", "kairos-timeslot"],
    sha256: {
      "report.json": "bdcc14795aeb33d2922a36bb987dd4ac5e13d41d52922bd429daad2e80e306c9",
      "calls.csv": "36e78aef7f51e70a8e02af392e418d731ca127e91543d18c222b126289e45bcd",
      "workflows.csv": "7d7c586e2ba22001bd5a8bfe83277279e942619a7fefdd198f4e578e844f073c",
    },
  },
  {
    name: "supervisor-oracle",
    args: ["--app", "supervisor", "--count", "10", "--rate", "1", "--observe", "oracle", "--dispatch", "prefix-affinity"],
    sha256: {
      "report.json": "e5ef3cb3e26fab8090e0cdf4e84f36389dc4561fe0e5be83f05d775a5ca6bdf0",
      "calls.csv": "46cc36b1763a1690307f7e88ea8d07d6942dd9825971f3b2d05cd213ee13d614",
      "workflows.csv": "c9def29649f31837ed1957d25f207131a2ea6de752534320726ccf32a5b13645",
    },
  },
  {
    name: "guessing-plas",
    args: ["--app", "guessing-game", "--param", "participants=20", "--count", "3", "--rate", "0.5", "--scheduling", "plas", "--seed", "3"],
    sha256: {
      "report.json": "02d52f305482347acd43ba2add56d72d9aa8074a35464f0c3132695607dcba05",
      "calls.csv": "4d1c36dff2a212dfac2c675ec8207c3e2d95a5661b48c8af3b5ffb4a58adf4e8",
      "workflows.csv": "7a350ae4a60aeeb70078e5d77e1abced355d0cd6a86c47e86e7222a0a0b72b77",
    },
  },
  {
    name: "tiers",
    args: ["--config", "CONFIG", "--limit", "400", "--rate", "40", "--dispatch", "least-kv"],
    sha256: {
      "report.json": "13163087baae061d81e4cc145bfa40cab9445ed09924f2f341b4a3f7411aaabb",
      "calls.csv": "4f308748a04494ffdbf94820cad36218769ce735f0b8e101da6ceab2c21b51e2",
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
