import { inputError } from "../../src/core/errors.ts";
import { parseDurationDistribution } from "../durations.ts";
import { parseLengthDistribution } from "../lengths.ts";
import { ResolvedParams, type AppGenerator, type AppParam, type ResolvedValue } from "./app.ts";

/** Splits command-line `key=value` strings (from repeated `--param key=value`) into a record.
 *  A string without `=`, an empty key or a key given twice is an InputError naming `where`. */
export function parseParamPairs(pairs: readonly string[], where = "--param"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? "" : pair.slice(0, eq).trim();
    if (key === "") throw inputError(where, `${JSON.stringify(pair)}; expected key=value`);
    if (Object.hasOwn(out, key)) throw inputError(where, `${JSON.stringify(key)} is given twice; expected each parameter once`);
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Fills `app`'s defaults and parses `overrides` (`key → value` as written on the command line or in
 *  a config file). Unknown keys and bad values are InputErrors naming the option (`${where} key`);
 *  distribution strings are parsed here, once, so build() never sees text. */
export function resolveAppParams(app: AppGenerator, overrides: Readonly<Record<string, string | number>>, where = "--param"): ResolvedParams {
  const known = Object.keys(app.params);
  for (const key of Object.keys(overrides)) {
    if (!Object.hasOwn(app.params, key)) {
      throw inputError(`${where} ${key}`, `unknown parameter of app "${app.name}"; expected one of ${known.join(", ")}`);
    }
  }
  const values = new Map<string, ResolvedValue>();
  const written: Record<string, number | string> = {};
  for (const key of known) {
    const param = app.params[key];
    const raw = Object.hasOwn(overrides, key) ? overrides[key] : param.default;
    const option = `${where} ${key}`;
    written[key] = raw;
    switch (param.kind) {
      case "int":
      case "number":
        values.set(key, { kind: param.kind, value: parseNumber(raw, param, option) });
        break;
      case "length":
        values.set(key, { kind: "length", value: parseLengthDistribution(bareToFixed(raw, /^\d+$/), option) });
        break;
      case "duration":
        values.set(key, { kind: "duration", value: parseDurationDistribution(bareToFixed(raw, /^\d+(\.\d*)?$|^\.\d+$/), option) });
        break;
    }
  }
  const params = new ResolvedParams(app.name, values, written);
  app.check?.(params, where);
  return params;
}

/** A bare number stands for a fixed distribution: `6000` means `fixed:6000`. */
function bareToFixed(raw: string | number, bare: RegExp): string {
  const text = String(raw).trim();
  return bare.test(text) ? `fixed:${text}` : text;
}

function parseNumber(raw: string | number, param: AppParam, option: string): number {
  const text = String(raw).trim();
  const value = text === "" ? NaN : Number(text);
  const min = param.min ?? -Infinity;
  const max = param.max ?? Infinity;
  const ok = Number.isFinite(value) && (param.kind !== "int" || Number.isInteger(value)) && value >= min && value <= max;
  if (!ok) {
    const what = param.kind === "int" ? "an integer" : "a number";
    const range = Number.isFinite(min) && Number.isFinite(max) ? ` in [${min}, ${max}]` : Number.isFinite(min) ? ` ≥ ${min}` : Number.isFinite(max) ? ` ≤ ${max}` : "";
    throw inputError(option, `got ${JSON.stringify(raw)}; expected ${what}${range}`);
  }
  return value;
}
