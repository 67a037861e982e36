/** vitest setupFiles: gives every fast-check property of this worker the run's seed, when
 *  fast-check-seed.ts picked one (FC_SEED, or CI). fc.assert prints the seed on failure either way. */
import fc from "fast-check";
import { inject } from "vitest";

const seed = inject("fcSeed");
if (seed !== null) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
