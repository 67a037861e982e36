/** Policies from files (`--scheduling ./my-policy.ts`, `--dispatch ./my-dispatch.mjs`, or a path in
 *  the config's `policies`): the module is imported here, in the run layer, and its default export
 *  checked to be a policy definition of the right kind (docs/writing-policies.md). */
import { existsSync, statSync } from "node:fs";
import { register } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InputError } from "../src/core/errors.ts";
import type { PolicyDefinition } from "../src/policies/define.ts";
import type { DispatchPolicy } from "../src/policies/dispatch/policy.ts";
import { NO_PARAMS } from "../src/policies/entry.ts";
import type { SchedulingPolicy } from "../src/policies/scheduling/policy.ts";

export type PolicyKind = "scheduling" | "dispatch";
type PolicyOf<K extends PolicyKind> = K extends "scheduling" ? SchedulingPolicy : DispatchPolicy;

const TS_EXTENSIONS = /\.(ts|mts|cts)$/;

/** A policy name that is a path: it starts with `./`, `../` or `/` (or a drive letter), or ends in
 *  a module extension. Registered policy names never do. */
export function isPolicyFile(name: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|[A-Za-z]:[\\/])/.test(name) || /\.(m|c)?[jt]s$/.test(name);
}

/** The absolute path of a policy file: a flag's path is relative to the working directory, a
 *  config's to the config's folder. */
export function policyFilePath(name: string, configFile: string | undefined): string {
  if (isAbsolute(name)) return name;
  return configFile && !configFile.startsWith("(") ? resolve(dirname(configFile), name) : resolve(name);
}

const loaded = new Map<string, Promise<PolicyDefinition<PolicyKind, unknown>>>();

/** Imports a policy file once per thread and checks its default export; the file's errors are
 *  InputErrors naming it. `shown` is the path as the user wrote it. */
export function loadPolicyFile<K extends PolicyKind>(kind: K, path: string, shown: string): Promise<PolicyDefinition<K, PolicyOf<K>>> {
  const key = `${kind}\0${path}`;
  let promise = loaded.get(key);
  if (!promise) {
    promise = importDefinition(kind, path, shown);
    loaded.set(key, promise);
    promise.catch(() => loaded.delete(key)); // a fixed file may be loaded again (tests, the gateway)
  }
  return promise as Promise<PolicyDefinition<K, PolicyOf<K>>>;
}

async function importDefinition(kind: PolicyKind, path: string, shown: string): Promise<PolicyDefinition<PolicyKind, unknown>> {
  if (!existsSync(path)) throw new InputError(`${shown}: no such policy file (${path})`);
  if (!statSync(path).isFile()) throw new InputError(`${shown}: not a file; expected a module exporting a ${kind} policy`);
  if (TS_EXTENSIONS.test(path)) await enableTypeScript(shown);
  aliasTandem();
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`${shown}: cannot load the module (${importProblem(error, path)})`);
  }
  return checkDefinition(kind, module.default, shown);
}

/** The default export as a definition of `kind`: a `define…Policy({ name, params, create })`
 *  definition, or a bare policy object (one instance shared by every run in this thread). */
export function checkDefinition(kind: PolicyKind, value: unknown, shown: string): PolicyDefinition<PolicyKind, unknown> {
  const helper = kind === "scheduling" ? "defineSchedulingPolicy" : "defineDispatchPolicy";
  if (value === undefined) throw new InputError(`${shown}: no default export; expected \`export default ${helper}({ name, params, create })\``);
  if (typeof value !== "object" || value === null) throw new InputError(`${shown}: the default export is a ${typeof value}; expected ${helper}({ name, params, create })`);
  const v = value as Record<string, unknown>;
  const other = kind === "scheduling" ? "dispatch" : "scheduling";
  if (v.kind === other || (kind === "scheduling" && typeof v.choose === "function") || (kind === "dispatch" && typeof v.rank === "function")) {
    throw new InputError(`${shown}: exports a ${other} policy; --${kind} needs a ${kind} policy (${helper})`);
  }
  if (typeof v.name !== "string" || v.name === "") throw new InputError(`${shown}: the default export has no name; expected a non-empty string "name"`);
  if (typeof v.create === "function") {
    const params = v.params as { safeParse?: unknown } | undefined;
    if (typeof params?.safeParse !== "function") throw new InputError(`${shown}: "params" is not a zod schema; expected z.strictObject({ … }) (or leave it out)`);
    return { kind, name: v.name, description: typeof v.description === "string" ? v.description : `${v.name} (${shown})`, params: params as never, create: v.create as never };
  }
  const method = kind === "scheduling" ? "rank" : "choose";
  if (typeof v[method] !== "function") throw new InputError(`${shown}: the default export has neither create() nor ${method}(); expected ${helper}({ name, params, create })`);
  if (kind === "scheduling" && typeof v.dynamic !== "boolean") throw new InputError(`${shown}: "dynamic" must be true or false`);
  return { kind, name: v.name, description: `${v.name} (${shown})`, params: NO_PARAMS, create: () => value };
}

/** Why an import failed, in one line, with the fix for the common TypeScript cases. */
function importProblem(error: unknown, path: string): string {
  const e = error as NodeJS.ErrnoException;
  const first = String(e?.message ?? error).split("\n")[0];
  if (/\.ts$/.test(path) && (e?.code === "ERR_REQUIRE_CYCLE_MODULE" || e?.code === "ERR_REQUIRE_ESM" || /require\(\)|Cannot find module 'tandem'/.test(first))) {
    return `${first}; a .ts file outside an ES-module package is loaded as CommonJS: rename it to .mts or add "type": "module" to its package.json`;
  }
  return first;
}

let typeScriptReady: Promise<void> | undefined;

/** TypeScript needs a loader unless Node strips types itself (22.18+, or 22.6+ with
 *  --experimental-strip-types): tandem registers tsx when it is installed. */
function enableTypeScript(shown: string): Promise<void> {
  typeScriptReady ??= (async () => {
    if ((process.features as { typescript?: string | false }).typescript) return;
    // A checkout runs through tsx already, but worker threads do not inherit its loader, and
    // registering it again in a thread that has it is harmless.
    const specifier = "tsx/esm/api"; // a devDependency: resolved at run time, never bundled
    let api: { register: () => unknown };
    try {
      api = (await import(specifier)) as { register: () => unknown };
    } catch {
      typeScriptReady = undefined;
      throw new InputError(`${shown}: Node ${process.versions.node} cannot load TypeScript by itself; install tsx (npm i -D tsx), use Node ≥ 22.18, or compile the policy to .mjs`);
    }
    api.register();
  })();
  return typeScriptReady;
}

let aliased = false;

/** `import … from "tandem"` in a policy file resolves to the running tandem (its helpers and zod),
 *  so a file needs no install of its own and always matches the CLI that loads it. */
function aliasTandem(): void {
  if (aliased) return;
  aliased = true;
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const library = new URL(`../sim/library.${ext}`, import.meta.url).href;
  const hook = `export async function resolve(specifier, context, next) { return next(specifier === "tandem" ? ${JSON.stringify(library)} : specifier, context); }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
