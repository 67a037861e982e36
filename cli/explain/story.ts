/** One call's story as text lines, from its decision records and its calls.csv row: arrived,
 *  queued (rank and inputs), held (why), dispatched (where, why, what the policy saw), in the
 *  engine, first token, preemptions, finished. Pure. */
import type { CandidateRecord, DecisionRecord, RankRecord } from "../../src/core/decisions.ts";

const t = (s: number) => `${s.toFixed(3).padStart(9)} s`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4).replace(/0+$/, "").replace(/\.$/, ""));
const terms = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k}=${num(v)}`)
    .join(", ");

function rankText(policy: string, rank: RankRecord): string {
  return `rank ${num(rank.value)} by ${policy} (${terms(rank.inputs)})`;
}

function candidateText(c: CandidateRecord): string {
  const seen = c.observed
    ? `running ${c.observed.running}, waiting ${c.observed.waiting}, KV ${(100 * c.observed.kv_usage).toFixed(1)}% seen ${num(c.observed.age_s)} s ago`
    : "never observed";
  const score = c.score !== undefined ? `score ${num(c.score)}${c.terms ? ` (${terms(c.terms)})` : ""}; ` : c.terms ? `${terms(c.terms)}; ` : "";
  return `${c.instance}: ${score}${c.outstanding} calls / ${c.outstanding_tokens} tokens outstanding; ${seen}`;
}

export function callStory(callId: string, records: readonly DecisionRecord[], row: Record<string, string> | undefined): string[] {
  const first = records[0];
  const who = [first?.workflow && `workflow ${first.workflow}`, first?.agent && `agent ${first.agent}`, first?.model && `model ${first.model}`].filter(Boolean).join(", ");
  const lines = [`call ${callId}${who ? ` (${who})` : ""}`];
  if (row) lines.push(`${t(Number(row.arrival_s))}  arrived (${row.prompt_tokens} prompt tokens)`);
  for (const r of records) {
    if (r.kind === "enqueue") lines.push(`${t(r.at_s)}  queued at the controller, ${r.queue_length} waiting for its model: ${rankText(r.policy, r.rank)}`);
    else if (r.kind === "hold") {
      lines.push(`${t(r.at_s)}  held by ${r.policy}: ${r.reason}${r.retry_at_s !== undefined ? ` (retry at ${num(r.retry_at_s)} s)` : ""}`);
      for (const c of r.candidates) lines.push(`               ${candidateText(c)}`);
    } else if (r.kind === "dispatch") {
      const held = r.held_s !== undefined ? `, held ${num(r.held_s)} s of it` : "";
      lines.push(
        `${t(r.at_s)}  dispatched to ${r.chosen} by ${r.policy} after ${num(r.waited_s)} s at the controller${held}${r.reason ? ` (${r.reason})` : ""}; ${rankText("the scheduler", r.rank)}`,
      );
      for (const c of r.candidates) lines.push(`             ${c.instance === r.chosen ? "→" : " "} ${candidateText(c)}`);
    } else if (r.kind === "policy_error") {
      lines.push(`${t(r.at_s)}  ${r.error}; dispatched by the fallback ${r.fallback}`);
    }
  }
  if (!row) {
    lines.push("  (no calls.csv row: the call did not close, or the run's calls.csv is elsewhere)");
    return lines;
  }
  const dispatched = row.dispatched_s === "" ? undefined : Number(row.dispatched_s);
  const firstToken = row.first_token_s === "" ? undefined : Number(row.first_token_s);
  if (dispatched !== undefined && firstToken !== undefined) {
    lines.push(
      `${t(dispatched)}  in the engine on ${row.instance}: ${num(firstToken - dispatched)} s to its first token (engine queue + prefill${row.cached_tokens ? `, ${row.cached_tokens} prompt tokens cached` : ""})`,
    );
    lines.push(`${t(firstToken)}  first token (TTFT ${num(Number(row.ttft_s))} s)`);
  }
  const preemptions = Number(row.preemptions || 0);
  if (preemptions > 0) lines.push(`               preempted ${preemptions} time${preemptions > 1 ? "s" : ""} in the engine (KV blocks reclaimed, recomputed later)`);
  const end = `${t(Number(row.finished_s))}  ${row.status}`;
  if (row.status === "finished") lines.push(`${end}: ${row.output_tokens} output tokens, end to end ${num(Number(row.e2e_s))} s`);
  else lines.push(`${end}: ${row.reason}`);
  return lines;
}
