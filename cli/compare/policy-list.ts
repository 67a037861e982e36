/** Parsing of `tandem compare`'s list flags: `--policies` (SCHEDULING+DISPATCH combinations, each
 *  policy optionally with `{key=value;…}` params; a policy may be a file, ./my-policy.ts) and
 *  `--rates`. Pure: no I/O (checkPolicyFiles in compare-command.ts loads the files). */
import { InputError } from "../../src/core/errors.ts";
import { isPolicyFile } from "../../run/policy-file.ts";
import { DISPATCH_POLICIES, SCHEDULING_POLICIES, createDispatchPolicy, createSchedulingPolicy, parsePolicyParams, type PolicyChoice } from "../../src/policies/registry.ts";

/** One policy combination to compare. */
export interface PolicyCombo {
  /** Canonical text of the combination, e.g. `plas{levels=3}+least-kv`: the `policy` column. */
  label: string;
  scheduling: PolicyChoice;
  dispatch: PolicyChoice;
}

const EXAMPLE = "e.g. fcfs+round-robin or plas{levels=3}+least-kv";

/** Splits `text` on `separator` where it is not inside `{…}`; unbalanced braces are an error. */
function splitTopLevel(text: string, separator: string, flag: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth < 0) throw new InputError(`${flag}: unbalanced "}" in ${JSON.stringify(text)}; expected name{key=value;…}`);
    } else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new InputError(`${flag}: unclosed "{" in ${JSON.stringify(text)}; expected name{key=value;…}`);
  parts.push(text.slice(start));
  return parts;
}

/** `name` or `name{key=value;key=value}` → a policy choice and its canonical text. */
function parsePolicy(text: string, item: string, role: "scheduling" | "dispatch", flag: string): { choice: PolicyChoice; label: string } {
  const match = /^([^{}\s+,;=]+)\s*(?:\{([^{}]*)\})?$/.exec(text.trim());
  if (!match) {
    throw new InputError(`${flag}: ${JSON.stringify(item)}: ${role} policy ${JSON.stringify(text.trim())} is not NAME or NAME{key=value;…} (${EXAMPLE})`);
  }
  const name = match[1];
  if (match[2] === undefined) return { choice: name, label: name };
  const pairs = match[2]
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (pairs.length === 0) return { choice: name, label: name };
  const params = parsePolicyParams(pairs, `${flag}: ${item}`);
  return { choice: { name, params }, label: `${name}{${pairs.join(";")}}` };
}

/** `--policies`: comma-separated SCHEDULING+DISPATCH combinations, in the order given. Names are
 *  checked by validatePolicyCombos, not here. */
export function parsePolicyList(text: string, flag = "--policies"): PolicyCombo[] {
  if (text.trim() === "") throw new InputError(`${flag}: empty list; expected comma-separated SCHEDULING+DISPATCH combinations (${EXAMPLE})`);
  const combos: PolicyCombo[] = [];
  const seen = new Set<string>();
  for (const raw of splitTopLevel(text, ",", flag)) {
    const item = raw.trim();
    if (item === "") throw new InputError(`${flag}: empty entry in ${JSON.stringify(text)}; expected comma-separated SCHEDULING+DISPATCH combinations`);
    const halves = splitTopLevel(item, "+", flag);
    if (halves.length !== 2 || halves.some((h) => h.trim() === "")) {
      throw new InputError(`${flag}: ${JSON.stringify(item)} is not SCHEDULING+DISPATCH (${EXAMPLE})`);
    }
    const scheduling = parsePolicy(halves[0], item, "scheduling", flag);
    const dispatch = parsePolicy(halves[1], item, "dispatch", flag);
    const label = `${scheduling.label}+${dispatch.label}`;
    if (seen.has(label)) throw new InputError(`${flag}: ${label} is listed twice`);
    seen.add(label);
    combos.push({ label, scheduling: scheduling.choice, dispatch: dispatch.choice });
  }
  return combos;
}

/** Creates each policy once, so that unknown names and bad params fail before anything runs. */
export function validatePolicyCombos(combos: readonly PolicyCombo[], flag = "--policies"): void {
  for (const combo of combos) {
    const where = `${flag}: ${combo.label}`;
    const sName = typeof combo.scheduling === "string" ? combo.scheduling : combo.scheduling.name;
    const dName = typeof combo.dispatch === "string" ? combo.dispatch : combo.dispatch.name;
    // Policy files are checked by checkPolicyFiles (loading them is I/O).
    const sFile = isPolicyFile(sName);
    const dFile = isPolicyFile(dName);
    if (!sFile && !Object.hasOwn(SCHEDULING_POLICIES, sName) && Object.hasOwn(DISPATCH_POLICIES, sName)) {
      throw new InputError(`${where}: "${sName}" is a dispatch policy; expected SCHEDULING+DISPATCH, scheduling first (one of ${Object.keys(SCHEDULING_POLICIES).join(", ")})`);
    }
    if (!dFile && !Object.hasOwn(DISPATCH_POLICIES, dName) && Object.hasOwn(SCHEDULING_POLICIES, dName)) {
      throw new InputError(`${where}: "${dName}" is a scheduling policy; expected SCHEDULING+DISPATCH, dispatch second (one of ${Object.keys(DISPATCH_POLICIES).join(", ")})`);
    }
    if (!sFile) createSchedulingPolicy(combo.scheduling, where);
    if (!dFile) createDispatchPolicy(combo.dispatch, where);
  }
}

/** `--rates`: comma-separated arrival rates > 0, in the order given, without repeats. */
export function parseRateList(text: string, flag = "--rates"): number[] {
  if (text.trim() === "") throw new InputError(`${flag}: empty list; expected comma-separated rates > 0, e.g. 1,2,4`);
  const rates: number[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    const rate = Number(item);
    if (item === "" || !/^[0-9.eE+-]+$/.test(item) || !Number.isFinite(rate) || rate <= 0) {
      throw new InputError(`${flag}: ${JSON.stringify(item)} in ${JSON.stringify(text)}; expected a rate > 0 per second, e.g. 1,2,4`);
    }
    if (rates.includes(rate)) throw new InputError(`${flag}: ${item} is listed twice`);
    rates.push(rate);
  }
  return rates;
}

/** A rate as it appears in folder names and tables; null = the workload's own arrival times. */
export function rateLabel(rate: number | null): string {
  return rate === null ? "own" : String(rate);
}

/** A policy label made safe as a folder name: characters other than letters, digits and `._+=-`
 *  become `_`, trailing ones dropped (`plas{levels=3}+least-kv` → `plas_levels=3_+least-kv`). */
export function safePolicyName(label: string): string {
  return label.replace(/[^A-Za-z0-9._+=-]/g, "_").replace(/_+$/, "");
}

/** Folder names of the combinations, unique even when two labels sanitise alike (`_2`, `_3`, …). */
export function policyFolderNames(combos: readonly PolicyCombo[]): string[] {
  const used = new Set<string>();
  return combos.map((combo) => {
    const base = safePolicyName(combo.label);
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  });
}
