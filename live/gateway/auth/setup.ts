import { isIP } from "node:net";
import { InputError } from "../../../src/core/errors.ts";
import { GatewayAuth } from "./auth.ts";
import { loadKeyFile } from "./key-file.ts";
import { LocalRateLimits, type RateLimits } from "./limits.ts";

/** Loopback addresses: a gateway listening only there is reachable from this machine alone. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h.startsWith("::ffff:127.");
}

/** Without keys, the gateway listens only on loopback unless told it may run open (`--no-auth`):
 *  otherwise anyone on the network could claim any tenant and priority. */
export function checkListenAuth(host: string, keys: string | undefined, no_auth: boolean | undefined): void {
  if (keys !== undefined && no_auth) throw new InputError("--keys and --no-auth: give one or the other");
  if (keys === undefined && !no_auth && !isLoopback(host)) {
    throw new InputError(`--host ${host}: a gateway reachable from the network needs API keys (--keys FILE); pass --no-auth to serve it unauthenticated`);
  }
}

/** Loads the key file (an InputError names the file and field) into the gateway's key checks. */
export function startAuth(file: string, limits: RateLimits = new LocalRateLimits()): GatewayAuth {
  return new GatewayAuth(file, loadKeyFile(file), limits);
}
