/** Tests that need something from outside the project (../shared/data, a browser, python3) go
 *  through `required`: when it is missing they skip, saying what is missing, as on a user's fresh
 *  clone; under TANDEM_REQUIRE_ALL=1 (set by .ci/run) they fail instead, so that CI cannot pass
 *  by skipping. `optional` is for what CI legitimately lacks (PyTorch): it always skips. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "vitest";
import { SHARED_DATA } from "./shared-data.ts";

export const REQUIRE_ALL = process.env.TANDEM_REQUIRE_ALL === "1";

type TestBody = () => unknown;
/** `it` and `describe`, narrowed to the forms these tests use. */
export interface Gate {
  it(name: string, body: TestBody, timeout?: number): void;
  describe(name: string, body: () => void): void;
}

const runAll: Gate = {
  it: (name, body, timeout) => it(name, body, timeout),
  describe: (name, body) => describe(name, body),
};

const skipAll: Gate = {
  it: (name, body, timeout) => it.skip(name, body, timeout),
  describe: (name, body) => describe.skip(name, body),
};

/** The message a test fails with under TANDEM_REQUIRE_ALL=1 when `missing` is absent. */
export function requiredMessage(missing: string): string {
  return `TANDEM_REQUIRE_ALL=1 and ${missing}; this test must run, not skip`;
}

function failAll(missing: string): Gate {
  const fail = () => {
    throw new Error(requiredMessage(missing));
  };
  return {
    it: (name, _body, timeout) => it(name, fail, timeout),
    // The suite's own hooks and tests would touch the missing thing; one failing test stands in.
    describe: (name) => describe(name, () => it(`needs what is missing: ${missing}`, fail)),
  };
}

/** Gate for tests that need something; `missing` describes what is absent (undefined when all is
 *  present). Skips with a warning, or fails under TANDEM_REQUIRE_ALL=1. */
export function required(missing: string | undefined): Gate {
  if (missing === undefined) return runAll;
  if (REQUIRE_ALL) return failAll(missing);
  console.warn(`skipping: ${missing} (set TANDEM_REQUIRE_ALL=1 to make this a failure)`);
  return skipAll;
}

/** Gate for tests that need what CI itself lacks and never installs; skips whatever
 *  TANDEM_REQUIRE_ALL says. Use only with a comment saying why the skip is legitimate. */
export function optional(missing: string | undefined): Gate {
  if (missing === undefined) return runAll;
  console.warn(`skipping: ${missing}`);
  return skipAll;
}

/** Files (or folders) of ../shared/data that some tests need. */
export interface SharedData extends Gate {
  /** The first path, resolved whether or not it exists. */
  path: string;
  /** Every path, in the order asked. */
  paths: string[];
}

/** Paths of ../shared/data, with a `required` gate over all of them existing. */
export function sharedData(...relatives: [string, ...string[]]): SharedData {
  const paths = relatives.map((relative) => resolve(SHARED_DATA, relative));
  const absent = paths.filter((path) => !existsSync(path));
  const missing = absent.length === 0 ? undefined : `${absent.join(", ")} not found (../shared/data is absent beside the project)`;
  return { path: paths[0], paths, ...required(missing) };
}
