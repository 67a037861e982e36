/** vitest globalSetup: picks the one fast-check seed of a test run. FC_SEED=<integer> pins it (to
 *  replay a failure: fast-check's message prints "seed: N"); in CI (CI=true) without FC_SEED a seed
 *  is drawn and printed up front, so that any failure can be replayed; elsewhere every property
 *  draws its own seed, as fast-check does by default. fast-check-setup.ts applies it in each worker. */
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The fast-check seed for every property of this run; null = fast-check's own per-property draw. */
    fcSeed: number | null;
  }
}

/** FC_SEED as a seed, or an error naming the variable. */
export function parseFcSeed(text: string): number {
  const seed = Number(text);
  if (!/^-?[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(seed)) {
    throw new Error(`FC_SEED: expected an integer (the "seed" fast-check printed), got "${text}"`);
  }
  return seed;
}

export default function setup(project: TestProject): void {
  const pinned = process.env.FC_SEED;
  let seed: number | null = null;
  if (pinned !== undefined && pinned !== "") {
    seed = parseFcSeed(pinned);
    console.log(`fast-check: seed ${seed} (from FC_SEED)`);
  } else if (process.env.CI === "true") {
    // fast-check's own seeds are 32-bit; drawn here once so that the log names the run's seed.
    seed = (Date.now() ^ Math.floor(Math.random() * 0x1_0000_0000)) | 0;
    console.log(`fast-check: seed ${seed} (drawn for this CI run; replay a failure with FC_SEED=${seed})`);
  }
  project.provide("fcSeed", seed);
}
