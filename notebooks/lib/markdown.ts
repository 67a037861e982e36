/** Markdown tables (GitHub flavour), readable as plain text too: cells padded to their column. */

export type Align = "left" | "right";

/** A table from a header and rows of cells; `align` per column (default: the first left, the rest
 *  right, as numbers read best). Pipes in cells are escaped. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const columns = header.length;
  for (const [i, row] of rows.entries()) {
    if (row.length !== columns) throw new Error(`markdownTable: row ${i} has ${row.length} cells, the header ${columns}`);
  }
  const alignment = header.map((_, i) => align?.[i] ?? (i === 0 ? "left" : "right"));
  const escapePipes = (cell: string) => cell.replace(/\|/g, "\\|");
  const body = [header, ...rows].map((row) => row.map(escapePipes));
  const widths = header.map((_, i) => Math.max(3, ...body.map((row) => row[i].length)));
  const pad = (cell: string, i: number) => (alignment[i] === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]));
  const line = (row: readonly string[]) => `| ${row.map(pad).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (alignment[i] === "right" ? "-".repeat(w - 1) + ":" : "-".repeat(w))).join(" | ")} |`;
  return [line(body[0]), rule, ...body.slice(1).map(line)].join("\n");
}

/** A number with `digits` decimals; "–" for NaN or undefined. */
export function fixed(value: number | undefined | null, digits: number): string {
  return value === undefined || value === null || Number.isNaN(value) ? "–" : value.toFixed(digits);
}

/** A fraction as a percentage with `digits` decimals (0.123 → "12.3%"). */
export function percent(fraction: number | undefined, digits = 1): string {
  return fraction === undefined || Number.isNaN(fraction) ? "–" : `${(100 * fraction).toFixed(digits)}%`;
}

/** A signed relative change in percent (−0.093 → "−9.3%", 0 → "0.0%"). */
export function change(fraction: number, digits = 1): string {
  if (Number.isNaN(fraction)) return "–";
  const text = (100 * Math.abs(fraction)).toFixed(digits);
  if (Number(text) === 0) return `${(0).toFixed(digits)}%`;
  return `${fraction < 0 ? "−" : "+"}${text}%`;
}
