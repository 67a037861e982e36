import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSimulation } from "../../sim/run.ts";
import { DEFAULT_WORKLOAD } from "../../traces/index.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";

/** What `npm pack` needs of the checkout. The pack runs in a copy, so that its build (the
 *  `prepare` script) never replaces the dist/ that other tests' CLI runs are reading. */
const PACKAGE_INPUTS = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md", "bin", "docs", "src", "traces", "run", "sim", "live", "cli"];

/** The example script of docs/library.md: its first ```js block. */
function docExample(): string {
  const doc = readFileSync(join(REPO_ROOT, "docs/library.md"), "utf8");
  const block = /```js\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error("docs/library.md has no ```js block");
  return block[1];
}

const npm = (cwd: string, ...args: string[]) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("the package, installed from its tarball", { timeout: 600_000 }, () => {
  it("runs docs/library.md's example with plain node, as the sources compute it, and the tandem command", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "tandem-pack-"));
    const checkout = join(scratch, "checkout");
    for (const input of PACKAGE_INPUTS) cpSync(join(REPO_ROOT, input), join(checkout, input), { recursive: true });
    symlinkSync(join(REPO_ROOT, "node_modules"), join(checkout, "node_modules"), "dir");
    const [packed] = JSON.parse(npm(checkout, "pack", "--json", "--pack-destination", scratch)) as { filename: string; files: { path: string }[] }[];
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain("dist/sim/library.js");
    expect(paths).toContain("dist/sim/library.d.ts");
    expect(paths).toContain("dist/cli/compare/worker-bootstrap.mjs");
    expect(paths.filter((p) => /^(test|bench|notebooks|cli|src|sim)\//.test(p))).toEqual([]);

    const app = join(scratch, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    npm(app, "install", join(scratch, packed.filename), "--no-audit", "--no-fund", "--prefer-offline");
    // tsx is a development dependency: what runs here is the compiled JavaScript alone.
    expect(existsSync(join(app, "node_modules/tsx"))).toBe(false);

    writeFileSync(join(app, "example.mjs"), docExample());
    const example = spawnSync(process.execPath, ["example.mjs"], { cwd: app, encoding: "utf8" });
    expect(example.stderr).toBe("");
    expect(example.status).toBe(0);
    const printed = JSON.parse(example.stdout) as { completed: number; ttft_p50_s: number; e2e_p99_s: number };
    const { report } = await runSimulation({
      workload: { kind: "generated", options: { ...DEFAULT_WORKLOAD, count: 500 } },
      scheduling: "fcfs",
      dispatch: "least-kv",
    });
    expect(printed).toEqual({ completed: 500, ttft_p50_s: report.summary.ttft_s.p50, e2e_p99_s: report.summary.e2e_s.p99 });

    const tandem = (...args: string[]) => spawnSync(join(app, "node_modules/.bin/tandem"), args, { cwd: app, encoding: "utf8" });
    const help = tandem("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^ {2}sim \[options\] /m);
    // tandem sim runs from the esbuild bundle (dist/bundle/), with the report dist/cli computes.
    expect(paths).toContain("dist/bundle/cli/main.js");
    const sim = tandem("sim", "--limit", "200", "--quiet", "--no-progress", "--out", "s");
    expect(sim.stderr).toBe("");
    expect(sim.status).toBe(0);
    const unbundled = spawnSync(process.execPath, [join(app, "node_modules/tandem/dist/cli/main.js"), "sim", "--limit", "200", "--quiet", "--no-progress", "--out", "u"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(unbundled.status).toBe(0);
    expect(readFileSync(join(app, "s/report.json"), "utf8")).toBe(readFileSync(join(app, "u/report.json"), "utf8"));

    // compare runs its simulations on worker threads: their bootstrap must load the compiled worker.
    const compare = tandem("compare", "--app", "qa-router", "--count", "5", "--rates", "1", "--policies", "fcfs+round-robin", "--jobs", "1", "--quiet", "--no-progress", "--out", "c");
    expect(compare.stderr).toBe("");
    expect(compare.status).toBe(0);
    expect(existsSync(join(app, "c/compare.json"))).toBe(true);
  });
});
