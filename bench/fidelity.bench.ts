// `npm run bench:fidelity`: the shipped step-time presets and the roofline against the shared measurements,
// with the targets of issue 11: Splitwise e2e MAPE ≤ 8% and TTFT MAPE ≤ 12% per group on folds that hold out
// whole (prompt, batch) shapes (the held-out figures the fit records), and Vidur GEMM/attention ≤ 10% MAPE.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fidelity } from "../sim/calibrate/fidelity.ts";
import { shippedStepPresets } from "../src/model/step-presets.ts";

const data = resolve(process.argv[2] ?? "../shared/data/profiles");
if (!existsSync(data)) {
  process.stderr.write(`bench:fidelity: ${data} not found (the shared measurements); skipped\n`);
  process.exit(0);
}
const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
const step = fidelity(data, { kind: "step" });
const roofline = fidelity(data, { kind: "roofline" });
const old = new Map(roofline.map((l) => [`${l.group}|${l.quantity}`, l.error.mape]));
const lines = [`${"group".padEnd(28)} ${"quantity".padEnd(18)} roofline   step  held-out  target  met`];
for (const l of step) {
  let target: number | undefined;
  let held: number | undefined;
  if (l.source === "splitwise") {
    const [model, gpu, tp] = l.group.split(" ");
    const key = `splitwise_${model}_tp${tp.slice(2)}_${l.quantity === "prefill" ? "ttft" : l.quantity === "decode" ? "tpot" : "e2e"}_mape_heldout`;
    held = shippedStepPresets().presets[gpu]?.error[key];
    target = l.quantity === "e2e" ? 0.08 : l.quantity === "prefill" ? 0.12 : undefined;
  } else if (["gemm", "attention_prefill", "attention_decode"].includes(l.quantity)) {
    target = 0.1;
  }
  const judged = held ?? l.error.mape;
  const r = old.get(`${l.group}|${l.quantity}`);
  lines.push(
    `${l.group.padEnd(28)} ${l.quantity.padEnd(18)} ${r === undefined ? "     -" : pct(r)}  ${pct(l.error.mape)}  ${held === undefined ? "       -" : pct(held).padStart(8)}  ${target === undefined ? "     -" : pct(target)}  ${target === undefined ? "" : judged <= target ? "met" : "NOT MET"}`,
  );
}
process.stdout.write(lines.join("\n") + "\n");
