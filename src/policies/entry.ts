import { z } from "zod";

/** A registered policy: what it does, its parameters (a strict zod schema with defaults), and a
 *  factory — policies may keep state per run, so each run creates its own. */
export interface PolicyEntry<T> {
  description: string;
  params: z.ZodType;
  create(params: never): T;
}

export const NO_PARAMS = z.strictObject({});

/** An entry whose factory receives the parsed params (with defaults applied). */
export function entry<T, S extends z.ZodType>(description: string, params: S, create: (params: z.infer<S>) => T): PolicyEntry<T> {
  return { description, params, create: create as (params: never) => T };
}
