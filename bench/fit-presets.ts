// `npm run fit:presets [-- --data DIR]`: refits the step-time model's per-GPU coefficients from the shared
// measurements and writes src/model/presets/step-coefficients.json (sim/calibrate/fit-presets.ts).
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fitStepPresets } from "../sim/calibrate/fit-presets.ts";

const flag = process.argv.indexOf("--data");
const data = resolve(flag >= 0 ? process.argv[flag + 1] : "../shared/data/profiles");
if (!existsSync(data)) {
  process.stderr.write(`fit:presets: ${data} not found; pass --data DIR (the shared profiles folder)\n`);
  process.exit(2);
}
const started = Date.now();
const doc = fitStepPresets(data, (line) => process.stderr.write(line + "\n"));
const out = resolve("src/model/presets/step-coefficients.json");
writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
process.stderr.write(`wrote ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
