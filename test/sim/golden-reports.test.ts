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
      "report.json": "680dd9435e1bd78c446e54dcb9374deb43e677bc1024b9a89b5c2d9231320347",
      "calls.csv": "95ab1f1badc9678f3481f7f5315264c2ef3defefa5e7052d019e414ab3eb16b0",
    },
  },
  {
    name: "qa-kairos",
    args: ["--app", "qa-router", "--rate", "2", "--count", "30", "--scheduling", "kairos", "--dispatch", "kairos-timeslot"],
    sha256: {
      "report.json": "82b2cd3b01da4f341e9a18c30af906d4785d6fe99ec95feb5c34300a30a116f2",
      "calls.csv": "23038f84f4370f6e586521f5fbcfdc8b2a1f1b09b09997ea9b7dd7a2c57f5f3a",
      "workflows.csv": "a94212cf97f40e0d1a2ab09ac6a47617af6e719f7bd21eadc3dfeedb818ced96",
    },
  },
  {
    name: "supervisor-oracle",
    args: ["--app", "supervisor", "--count", "10", "--rate", "1", "--observe", "oracle", "--dispatch", "prefix-affinity"],
    sha256: {
      "report.json": "6295fc709b3ec7e64760d270a1f160b4239312bbdfec343019fc24f6e287561e",
      "calls.csv": "e442a45fe9f4aa4df06ddd271f330678b7537a68b0c055dda530e9d245001074",
      "workflows.csv": "c9def29649f31837ed1957d25f207131a2ea6de752534320726ccf32a5b13645",
    },
  },
  {
    name: "guessing-plas",
    args: ["--app", "guessing-game", "--param", "participants=20", "--count", "3", "--rate", "0.5", "--scheduling", "plas", "--seed", "3"],
    sha256: {
      "report.json": "2fb30c24cb02ca2fd1352bb36a4d1cb287e2b783c82f383db17b06b27a28ddd7",
      "calls.csv": "5de5d1d16d0cc9ea9559d69f8db47a9791facec1cc7da6ba30d58732585eac5f",
      "workflows.csv": "7a350ae4a60aeeb70078e5d77e1abced355d0cd6a86c47e86e7222a0a0b72b77",
    },
  },
  {
    name: "tiers",
    args: ["--config", "CONFIG", "--limit", "400", "--rate", "40", "--dispatch", "least-kv"],
    sha256: {
      "report.json": "d23fd440d83242c5fb8f449556eb428dbfaf0d049dda75b6d85749b9ac2b9c92",
      "calls.csv": "f585899690a1da0897efe16a35d9da6dcb7151bfdf29f74920a058cc7b8db248",
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
