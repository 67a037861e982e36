import { runSimulation } from "../sim/run.ts";
const app = process.argv[2] ?? "qa-router";
const rate = Number(process.argv[3] ?? 0.7);
const runs: [string, any, any][] = JSON.parse(process.argv[4]);
for (const [label, s, d] of runs) {
  const t = Date.now();
  const { report } = await runSimulation({
    cluster: { instances: [{ model: process.env.MODEL ?? "llama-2-13b", gpu: process.env.GPU ?? "l40s", tensor_parallel: 1, count: Number(process.env.N ?? 2), engine: { scheduling_policy: "priority" } }] },
    workload: { kind: "app", name: app, params: {}, timing: { kind: "poisson", rate, count: Number(process.env.COUNT ?? 400) } },
    scheduling: s, dispatch: d, seed: Number(process.env.SEED ?? 1),
  });
  const m = report.summary.workflow_makespan_s;
  console.log(app, rate, label.padEnd(30), "makespan", m.mean.toFixed(2), "p99", m.p99.toFixed(2), "pre", report.summary.preemptions, "tpot", (report.summary.tpot_s.mean * 1000).toFixed(1), "queue", report.summary.queue_s.mean.toFixed(2), `${Date.now() - t}ms`);
}
