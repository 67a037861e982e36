import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { REPO_ROOT } from "./shared-data.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A scratch folder and the CLI run as a user runs it there: a real process, real files. */
export function cliSandbox(prefix: string, timeout_ms = 120_000) {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  return {
    scratch,
    tandem(...args: string[]): CliResult {
      const run = spawnSync(process.execPath, [BIN, ...args], { cwd: scratch, encoding: "utf8", timeout: timeout_ms });
      return { code: run.status, stdout: run.stdout, stderr: run.stderr };
    },
    /** Writes `text` to `name` in the scratch folder; returns its path. */
    file(name: string, text: string): string {
      const path = join(scratch, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** Bad input must give one line naming the problem (commander's usage errors add a hint line),
 *  exit code 2, and no stack trace. */
export function expectInputError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(pattern);
  const lines = result.stderr
    .trim()
    .split("\n")
    .filter((line) => line !== "(run with --help for usage)");
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}
