import { writeFileSync } from "node:fs";
import { InputError } from "../../src/core/errors.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { writeWorkflowTrace } from "../../traces/workflows/index.ts";
import type { ClientExchange } from "./exchange.ts";
import { promptPrefixes } from "./record-prefix.ts";
import { recordedWorkflows, type RecordedCall } from "./record-workflows.ts";

export interface RecordOptions {
  /** The workflow trace to write at shutdown (tandem workflow JSONL). */
  path: string;
  /** Also write each call's prompt (messages or prompt) to `<path>.text.jsonl`. */
  text?: boolean;
}

export interface RecordSummary {
  files: string[];
  workflows: number;
  calls: number;
  /** Calls left out: failed or rejected ones (they have no output to replay). */
  skipped: number;
}

/** The end of a call the recorder can use to find continuations: what its prompt and reply were. */
interface Earlier {
  call_id: string;
  finished_s: number;
  units: number;
  hash: string;
}

/** `tandem gateway --record FILE`: keeps, for every finished call, its workflow, timing, the
 *  server's token counts and hashes of its prompt's prefixes (never its text, unless asked), and
 *  writes them at shutdown as a workflow trace that `tandem sim --workflows FILE` replays
 *  (record-workflows.ts says how calls become steps). */
export class TrafficRecorder {
  private readonly calls: RecordedCall[] = [];
  private readonly texts = new Map<string, unknown>();
  private readonly earlier = new Map<string, Earlier[]>();
  private skipped = 0;
  private seq = 0;

  constructor(private readonly options: RecordOptions) {
    // Fail at start, not after hours of traffic, when the file cannot be written.
    for (const path of this.paths()) {
      try {
        writeFileSync(path, "");
      } catch (error) {
        throw new InputError(`--record ${options.path}: cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    }
  }

  private paths(): string[] {
    return this.options.text ? [this.options.path, `${this.options.path}.text.jsonl`] : [this.options.path];
  }

  /** A call closed (before the gateway forgets its request). */
  callClosed(ex: ClientExchange | undefined, row: CallRow): void {
    if (ex === undefined) return;
    if (row.status !== "finished" || row.output_tokens === null || row.output_tokens < 1) {
      this.skipped++;
      return;
    }
    const identity = ex.identity;
    const workflow = identity.workflow ?? row.call_id;
    const prefixes = promptPrefixes(ex.request);
    const earlier = this.earlier.get(workflow) ?? [];
    // The latest earlier call whose whole prompt this one begins with, followed by a reply.
    let continues: Earlier | undefined;
    for (const e of earlier) {
      if (e.finished_s > row.arrival_s || e.units >= prefixes.whole.units) continue;
      if (prefixes.kind === "chat" && prefixes.roleAt(e.units) !== "assistant") continue;
      if (prefixes.hashAt(e.units) !== e.hash) continue;
      if (continues === undefined || e.units > continues.units) continues = e;
    }
    this.calls.push({
      call_id: row.call_id,
      seq: this.seq++,
      workflow,
      step: identity.step,
      agent: identity.agent,
      app: identity.app,
      tenant: identity.tenant,
      priority_class: identity.priority_class,
      slo_s: identity.slo_s,
      model: ex.route.model,
      arrival_s: row.arrival_s,
      finished_s: row.finished_s,
      prompt_tokens: row.prompt_tokens,
      output_tokens: row.output_tokens,
      boundaries: prefixes.boundaries,
      est_prompt_tokens: prefixes.kind === "chat" ? ex.request.prompt_tokens : prefixes.whole.est_tokens,
      continues: continues?.call_id,
    });
    earlier.push({ call_id: row.call_id, finished_s: row.finished_s, units: prefixes.whole.units, hash: prefixes.whole.hash });
    this.earlier.set(workflow, earlier);
    if (this.options.text) this.texts.set(row.call_id, ex.request.kind === "chat" ? { messages: ex.request.body.messages } : { prompt: ex.request.body.prompt });
  }

  /** Writes the trace (and the text file); called once, at shutdown. */
  async write(): Promise<RecordSummary> {
    const stepIds = new Map<string, string>();
    const workflows = recordedWorkflows(this.calls, stepIds);
    await writeWorkflowTrace(this.options.path, workflows);
    if (this.options.text) {
      const lines = this.calls.map((c) => JSON.stringify({ workflow: c.workflow, step: stepIds.get(c.call_id), call_id: c.call_id, ...(this.texts.get(c.call_id) as object) }));
      writeFileSync(`${this.options.path}.text.jsonl`, lines.length > 0 ? `${lines.join("\n")}\n` : "");
    }
    return { files: this.paths(), workflows: workflows.length, calls: this.calls.length, skipped: this.skipped };
  }
}
