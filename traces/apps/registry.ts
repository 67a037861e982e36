import { InputError } from "../../src/core/errors.ts";
import type { AppGenerator } from "./app.ts";
import { chain } from "./chain.ts";
import { codingAgent } from "./coding-agent.ts";
import { debate } from "./debate.ts";
import { fanout } from "./fanout.ts";
import { guessingGame } from "./guessing-game.ts";
import { qaRouter, qaRouterHeterogeneous } from "./qa-router.ts";
import { supervisor } from "./supervisor.ts";

/** Every app generator by name. Registering an app is one line here. */
export const APPS: Readonly<Record<string, AppGenerator>> = Object.freeze(
  Object.fromEntries([chain, fanout, supervisor, debate, guessingGame, qaRouter, qaRouterHeterogeneous, codingAgent].map((app) => [app.name, app])),
);

export const APP_NAMES: readonly string[] = Object.keys(APPS);

/** The app called `name`; an unknown name is an InputError naming `where` and listing the apps. */
export function appByName(name: string, where = "--app"): AppGenerator {
  if (!Object.hasOwn(APPS, name)) {
    throw new InputError(`${where}: unknown app ${JSON.stringify(name)}; expected one of ${APP_NAMES.join(", ")}`);
  }
  return APPS[name];
}
