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
      "report.json": "5fec06c37cf705c32659e210bea859a08b6b4ab3a164a27bf2ec5e162acfad33",
      "calls.csv": "7aa47dc6e991987eacea3d77ea3c65bee1a9e47669657512aa45e9a5b82fc1bf",
    },
  },
  {
    name: "qa-kairos",
    args: ["--app", "qa-router", "--rate", "2", "--count", "30", "--scheduling", "kairos", "--dispatch", "kairos-timeslot"],
    sha256: {
      "report.json": "a62b30194cdb2d6c718c5d8ea765ab02a030a9d756cb6ae6a10e183a31fd8efb",
      "calls.csv": "1b30b5a27f66d765269f54fc276ac68f7f77213c230ab6a851db60dc39b7c1d6",
      "workflows.csv": "99ce25ae67acbc83b95c13990b5ec6525748ee577d0033a257931025ab788321",
    },
  },
  {
    name: "supervisor-oracle",
    args: ["--app", "supervisor", "--count", "10", "--rate", "1", "--observe", "oracle", "--dispatch", "prefix-affinity"],
    sha256: {
      "report.json": "26e5d2e9e745c4ea6c2d171a7894f977a9635f0d77206aa62c2a74776a24d000",
      "calls.csv": "018f897ed213bf29e2797f9ba1668a114f1d70d3d1c8b3314db95bd7f4544bd6",
      "workflows.csv": "d5d9aa36b0f1298b120504de332fa934d9ef6b84586e5e4d02a8c8958b17635e",
    },
  },
  {
    name: "guessing-plas",
    args: ["--app", "guessing-game", "--param", "participants=20", "--count", "3", "--rate", "0.5", "--scheduling", "plas", "--seed", "3"],
    sha256: {
      "report.json": "f4525f3862c1f7513c3f3d19b0bbb9fd8b16dcc52c340ea4aa8f17396bee31d3",
      "calls.csv": "985aa5c3f4cc08c3e119c957b7faa5f3139f1658f8863960a31b6858b711e181",
      "workflows.csv": "1f921d6e4d1822a28c934cc66081623c4e0b84e5f68377b31f8d578dd1097b35",
    },
  },
  {
    name: "tiers",
    args: ["--config", "CONFIG", "--limit", "400", "--rate", "40", "--dispatch", "least-kv"],
    sha256: {
      "report.json": "45ee81bdfde45e68b83b8ae3e006559f5bfbf6f43883a0ad59b43fea7ec349fd",
      "calls.csv": "787c907e21c7a9bc5c4caea8499726076fb41b667a3483b551545d7232de313e",
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
