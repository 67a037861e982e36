import { runSimulation } from "../sim/run.ts";
const app = process.argv[2] ?? "qa-router";
const rates = (process.argv[3] ?? "1,2,4,8").split(",").map(Number);
const combos = (process.argv[4] ?? "fcfs+round-robin").split(",");
const prio = process.argv[5] === "prio";
for (const rate of rates) {
  for (const combo of combos) {
    const [s, d] = combo.split("+");
    const t = Date.now();
    const { report } = await runSimulation({
      cluster: { instances: [{ model: process.env.MODEL ?? "llama-3-8b", gpu: process.env.GPU ?? "h100-80gb", tensor_parallel: 1, count: 2, engine: { max_num_seqs: Number(process.env.SEQS ?? 256), ...(prio ? { scheduling_policy: "priority" } : {}) } }] },
      workload: { kind: "app", name: app, params: {}, timing: process.env.CV ? { kind: "gamma", rate, cv: Number(process.env.CV), count: Number(process.env.COUNT ?? 400) } : { kind: "poisson", rate, count: Number(process.env.COUNT ?? 400) } },
      scheduling: s, dispatch: d, seed: 1,
    });
    const m = report.summary.workflow_makespan_s;
    console.log(app, rate, combo.padEnd(34), "makespan mean", m.mean.toFixed(2), "p99", m.p99.toFixed(2), "wf/s", (report.summary.workflows.completed / report.summary.duration_s).toFixed(2), "hit", report.summary.prefix_cache.hit_rate.toFixed(2), "pre", report.summary.preemptions, "ttft", report.summary.ttft_s.mean.toFixed(2), "tpot", (report.summary.tpot_s.mean*1000).toFixed(1), "rej", report.summary.calls.rejected, "kv", report.instances.map(i=>i.peak_kv_usage.toFixed(2)).join("/"), `${Date.now() - t}ms`);
  }
}
