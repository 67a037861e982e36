/** The skip-or-fail gate, run as CI runs it: a small test file using `required`, `sharedData` and
 *  `optional` on things that are missing, under a real vitest process with and without
 *  TANDEM_REQUIRE_ALL=1. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./shared-data.ts";

const HELPER = pathToFileURL(join(REPO_ROOT, "test/helpers/requirements.ts")).href;
const FIXTURE = `import { expect } from "vitest";
import { optional, required, sharedData } from ${JSON.stringify(HELPER)};
required(undefined).it("present", () => expect(1).toBe(1));
required("thing X is missing").it("needs X", () => expect(1).toBe(1));
sharedData("no/such/file.csv").describe("needs shared data", () => {
  required(undefined).it("inner", () => expect(1).toBe(1));
});
optional("torch is missing").it("needs torch", () => expect(1).toBe(1));
`;

interface Outcome {
  code: number | null;
  tests: Record<string, { status: string; failure: string }>;
}

function runFixture(requireAll: boolean): Outcome {
  const dir = mkdtempSync(join(tmpdir(), "tandem-requirements-"));
  writeFileSync(join(dir, "gate.test.ts"), FIXTURE);
  const env = { ...process.env };
  delete env.TANDEM_REQUIRE_ALL;
  if (requireAll) env.TANDEM_REQUIRE_ALL = "1";
  const vitest = join(REPO_ROOT, "node_modules/vitest/vitest.mjs");
  const out = join(dir, "results.json");
  const run = spawnSync(process.execPath, [vitest, "run", "--root", dir, "--reporter=json", `--outputFile=${out}`], { cwd: dir, env, encoding: "utf8" });
  const results = JSON.parse(readFileSync(out, "utf8")) as {
    testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
  };
  const tests: Outcome["tests"] = {};
  for (const a of results.testResults[0].assertionResults) tests[a.fullName] = { status: a.status, failure: a.failureMessages.join("\n") };
  return { code: run.status, tests };
}

describe("tests that need something missing", () => {
  it("skip, run or fail: they skip without TANDEM_REQUIRE_ALL and fail, naming what is missing, with it", () => {
    const plain = runFixture(false);
    expect(plain.code).toBe(0);
    expect(Object.fromEntries(Object.entries(plain.tests).map(([name, t]) => [name, t.status]))).toEqual({
      present: "passed",
      "needs X": "skipped",
      "needs shared data inner": "skipped",
      "needs torch": "skipped",
    });

    const strict = runFixture(true);
    expect(strict.code).toBe(1);
    expect(strict.tests.present.status).toBe("passed");
    expect(strict.tests["needs X"]).toEqual({ status: "failed", failure: expect.stringContaining("TANDEM_REQUIRE_ALL=1 and thing X is missing") });
    const shared = Object.entries(strict.tests).filter(([name]) => name.startsWith("needs shared data"));
    expect(shared).toHaveLength(1);
    expect(shared[0][1].status).toBe("failed");
    expect(shared[0][1].failure).toMatch(/TANDEM_REQUIRE_ALL=1 and .*no\/such\/file\.csv not found/);
    // PyTorch-like needs stay optional: skipped even under TANDEM_REQUIRE_ALL.
    expect(strict.tests["needs torch"].status).toBe("skipped");
  });
});
