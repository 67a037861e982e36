import { readTrace } from "./index.ts";
const t0 = performance.now(); let n = 0;
for await (const b of readTrace("/work/shared/data/traces/azure-llm-2023-conv.csv", "azure")) n += b.length;
console.log(n, (performance.now() - t0).toFixed(1));
