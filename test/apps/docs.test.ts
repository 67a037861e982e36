import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { APPS } from "../../traces/apps/index.ts";

const DOC = readFileSync(new URL("../../docs/apps.md", import.meta.url), "utf8");

/** The text of the `## \`name\`` section of docs/apps.md. */
function section(name: string): string {
  const start = DOC.indexOf(`## \`${name}\`\n`);
  if (start < 0) return "";
  const next = DOC.indexOf("\n## ", start + 1);
  return DOC.slice(start, next < 0 ? undefined : next);
}

describe("docs/apps.md", () => {
  it.each(Object.keys(APPS))("documents %s with every parameter and its default", (name) => {
    const text = section(name);
    expect(text, `section for ${name}`).not.toBe("");
    for (const [key, param] of Object.entries(APPS[name].params)) {
      expect(text).toMatch(new RegExp(`\\| \`${key}\` \\|[^\\n]*\\| \`${String(param.default).replace(/[.]/g, "\\.")}\``));
    }
  });
});
