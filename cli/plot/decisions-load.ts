/** Reading a run's decision trace (`--decisions FILE`, docs/decisions.md) for the decision
 *  timeline: dispatches, holds and policy errors, streamed line by line. A long trace is thinned
 *  to at most `maxPoints` dispatches (and as many holds), evenly spread over the run, in bounded
 *  memory: when a buffer fills, every other kept record goes and the stride doubles. */
import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { InputError } from "../../src/core/errors.ts";
import type { DecisionRecord } from "../../src/core/decisions.ts";

export const DECISIONS_FILE = "decisions.jsonl";
export const DEFAULT_DECISION_POINTS = 20_000;

export interface DispatchPoint {
  t_s: number;
  call: string;
  workflow: string | null;
  agent: string | null;
  instance: string;
  /** The policy that chose: the run's dispatch policy, or its fallback when a policy file threw. */
  policy: string;
  /** The policy's score of the chosen instance (its `explain` hook); null without one. */
  score: number | null;
  /** Seconds the call waited at the controller, and of that, held. */
  waited_s: number;
  held_s: number | null;
  reason: string | null;
}

export interface HoldPoint {
  t_s: number;
  call: string;
  agent: string | null;
  policy: string;
  reason: string;
}

export interface PolicyErrorPoint {
  t_s: number;
  call: string;
  hook: string;
  fallback: string;
  error: string;
}

export interface DecisionTimeline {
  file: string;
  /** The instances of the run, in config order (the trace's header). */
  instances: string[];
  scheduling: string;
  dispatch: string;
  dispatches: DispatchPoint[];
  holds: HoldPoint[];
  errors: PolicyErrorPoint[];
  /** Records of each kind in the trace; more than kept when it was thinned. */
  totals: { dispatches: number; holds: number; errors: number };
}

/** Keeps every `stride`-th record pushed; halves itself (and doubles the stride) when full. */
class Thinned<T> {
  items: T[] = [];
  private stride = 1;
  private seen = 0;
  constructor(private readonly max: number) {}
  push(item: T): void {
    if (this.seen++ % this.stride !== 0) return;
    this.items.push(item);
    if (this.items.length > this.max) {
      this.items = this.items.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }
}

const HEADER_SCHEMA = '"schema":"tandem.decisions/v1"';

/** Reads the trace at `path`; bad input is an InputError naming the file and line. */
export async function loadDecisionTimeline(path: string, maxPoints = DEFAULT_DECISION_POINTS): Promise<DecisionTimeline> {
  if (!existsSync(path)) throw new InputError(`${path}: no such decision trace; expected the file a run's --decisions wrote (docs/decisions.md)`);
  const dispatches = new Thinned<DispatchPoint>(maxPoints);
  const holds = new Thinned<HoldPoint>(maxPoints);
  const errors = new Thinned<PolicyErrorPoint>(maxPoints);
  const totals = { dispatches: 0, holds: 0, errors: 0 };
  // Calls whose policy file threw in `choose`: their next dispatch was the fallback's.
  const fellBack = new Map<string, string>();
  let header: { instances?: unknown; scheduling?: unknown; dispatch?: unknown } | undefined;
  let line = 0;
  const stream = createReadStream(path, { encoding: "utf8" });
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (line === 1) {
      if (!text.includes(HEADER_SCHEMA)) throw new InputError(`${path}:1: expected a decision trace (schema tandem.decisions/v1) written with --decisions`);
      header = parse(text, path, line) as typeof header;
      continue;
    }
    // Enqueue records are most of a trace and the timeline draws none: skip them unparsed.
    if (text === "" || text.startsWith('{"kind":"enqueue"')) continue;
    const record = parse(text, path, line) as DecisionRecord;
    if (record.kind === "dispatch") {
      totals.dispatches++;
      const chosen = record.candidates.find((c) => c.instance === record.chosen);
      const fallback = fellBack.get(record.call);
      if (fallback !== undefined) fellBack.delete(record.call);
      dispatches.push({
        t_s: record.at_s,
        call: record.call,
        workflow: record.workflow ?? null,
        agent: record.agent ?? null,
        instance: record.chosen,
        policy: fallback ?? record.policy,
        score: fallback !== undefined ? null : (chosen?.score ?? null),
        waited_s: record.waited_s,
        held_s: record.held_s ?? null,
        reason: record.reason ?? null,
      });
    } else if (record.kind === "hold") {
      totals.holds++;
      holds.push({ t_s: record.at_s, call: record.call, agent: record.agent ?? null, policy: record.policy, reason: record.reason });
    } else if (record.kind === "policy_error") {
      totals.errors++;
      if (record.hook === "choose") fellBack.set(record.call, record.fallback);
      errors.push({ t_s: record.at_s, call: record.call, hook: record.hook, fallback: record.fallback, error: record.error });
    }
  }
  if (header === undefined) throw new InputError(`${path}: empty; expected a decision trace written with --decisions`);
  const instances = Array.isArray(header.instances) ? header.instances.map(String) : [];
  return {
    file: path,
    instances,
    scheduling: String(header.scheduling ?? ""),
    dispatch: String(header.dispatch ?? ""),
    dispatches: dispatches.items,
    holds: holds.items,
    errors: errors.items,
    totals,
  };
}

function parse(text: string, path: string, line: number): unknown {
  try {
    // Infinite numbers are written {"$number":"Infinity"} (run/decision-log.ts).
    return JSON.parse(text, (_k, v) => (v !== null && typeof v === "object" && typeof v.$number === "string" ? Number(v.$number) : v));
  } catch (error) {
    throw new InputError(`${path}:${line}: not valid JSON (${(error as Error).message.replace(/\s+/g, " ")})`);
  }
}
