/** The HTML page loads in headless Chromium (Debian's `chromium` package, driven by playwright-core;
 *  no browser download) and draws every chart without console errors or warnings. Skips, saying
 *  so, when no Chromium is installed (apt-get install chromium; or set CHROMIUM_PATH), or fails under
 *  TANDEM_REQUIRE_ALL=1. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { beforeAll, expect, it } from "vitest";
import { buildCharts } from "../../cli/plot/charts.ts";
import { htmlPage } from "../../cli/plot/html.ts";
import { loadPlotInputs } from "../../cli/plot/load.ts";
import { findChromium } from "../helpers/chromium.ts";
import { required } from "../helpers/requirements.ts";
import { asLiveRun, compareRun, scratchDir, simRun, workflowWorkload } from "./fixtures.ts";

// The functions given to waitForFunction/evaluate run in the page, where `document` exists; the
// project's TypeScript has no DOM library, so declare just that.
declare const document: any;

const { path: CHROMIUM, missing } = findChromium();

required(missing).describe("HTML page in headless Chromium", () => {
  const dir = scratchDir();
  const page = join(dir, "plots.html");
  let chartCount = 0;

  beforeAll(async () => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    await simRun(a, workflowWorkload(), "least-outstanding");
    await simRun(b, workflowWorkload(), "round-robin");
    asLiveRun(a, join(dir, "live"), b);
    await compareRun(join(dir, "cmp"));
    const inputs = await loadPlotInputs([a, b, join(dir, "live"), join(dir, "cmp")]);
    const { charts, notes } = buildCharts(inputs);
    chartCount = charts.length;
    writeFileSync(page, htmlPage({ title: "tandem plots", charts, inputs: [a, b], notes }));
  });

  it("draws every chart, offline, without console errors", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const tab = await browser.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      tab.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
      });
      tab.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      tab.on("request", (r) => {
        if (!r.url().startsWith("file:")) requests.push(r.url());
      });
      await tab.goto(pathToFileURL(page).href);
      await tab.waitForFunction(() => document.body.hasAttribute("data-rendered") || document.body.hasAttribute("data-error"), null, { timeout: 60_000 });
      const state = await tab.evaluate(() => ({
        rendered: document.body.getAttribute("data-rendered"),
        error: document.body.getAttribute("data-error"),
        charts: [...document.querySelectorAll(".chart")].map((c: any) => ({
          svg: c.querySelector("svg") !== null,
          marks: c.querySelectorAll("g.role-mark").length,
          paths: c.querySelectorAll("g.role-mark path").length,
        })),
        titles: [...document.querySelectorAll(".chart svg .role-title-text text")].map((t: any) => t.textContent as string),
      }));
      expect(state.error).toBeNull();
      expect(state.rendered).toBe(String(chartCount));
      expect(state.charts).toHaveLength(chartCount);
      for (const c of state.charts) {
        expect(c.svg).toBe(true);
        expect(c.marks).toBeGreaterThan(0);
        expect(c.paths).toBeGreaterThan(0);
      }
      expect(state.titles).toEqual(expect.arrayContaining(["TTFT CDF", "Sim vs live: latency CDFs", "p99 TTFT vs load"]));
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
