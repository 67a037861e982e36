/** The metrics recorder: fed the same lifecycle events by the simulator and the live host, it keeps
 *  what the summary needs and hands every closed call to the host as a CallRow (for calls.csv).
 *  Memory: one record per call in flight, a Float64Array slot per closed call per latency metric,
 *  and a fixed-size histogram for inter-token latency. */
import type { CallUsage, InstanceSnapshot, InstanceSpec, LlmCall } from "../core/types.ts";
import type { CallRow } from "./calls-csv.ts";
import { SloClasses, meetsTargets, type SloClassConfig } from "./slo-classes.ts";
import { exactDistribution, sketchedDistribution } from "./distribution.ts";
import { FloatSeries, type SampleSeries, type SampleSeriesFactory } from "./float-series.ts";
import { LogHistogram } from "./log-histogram.ts";
import type { InstanceSummary, Summary } from "./report-schema.ts";
import { WorkflowRecorder, type WorkflowArrival, type WorkflowRow, type WorkflowStatus } from "./workflow-recorder.ts";
import { InstanceTimeline, type InstanceTimelineData, type TimelineOptions } from "./timeline.ts";
import { WorkflowStepsRecorder, type LongestWorkflow } from "./workflow-steps.ts";

/** Latency targets; a completed call meets the SLO when it is within every one given (≤). */
export interface SloConfig {
  ttft_s?: number;
  tpot_s?: number;
  e2e_s?: number;
  /** Per-class targets (report `summary.slo_classes`); a call is held to its class's targets. */
  classes?: SloClassConfig;
}

export interface RecorderOptions {
  slo: SloConfig;
  /** Called once per call, when it closes (finished, failed or rejected). */
  onCallClosed?: (row: CallRow) => void;
  /** Called once per workflow, when it completes or fails. */
  onWorkflowClosed?: (row: WorkflowRow) => void;
  /** Sample per-instance timelines from the snapshots (report `timelines`); absent: none. */
  timeline?: TimelineOptions;
  /** Where the values behind exact percentiles are kept; absent: in memory. */
  series?: SampleSeriesFactory;
}

/** A call in flight. A class with every field set up front keeps one hidden shape for V8. */
class OpenCall {
  dispatched_s = NaN;
  instance: string | null = null;
  first_token_s = NaN;
  last_token_s = NaN;
  /** The time of callArrived: in live it may lag the trace's scheduled `call.arrival_s`, and
   *  latencies count from when the call really reached the controller. */
  constructor(
    readonly call: LlmCall,
    readonly arrival_s: number,
  ) {}
}

/** Running totals for one instance, by the recorder's own bookkeeping plus its last snapshot. */
class InstanceTotals {
  dispatched = 0;
  completed = 0;
  failed = 0;
  output_tokens = 0;
  ttft_sum_s = 0;
  ttft_count = 0;
  e2e_sum_s = 0;
  peak_kv_usage = 0;
  last: InstanceSnapshot | null = null;
  timeline: InstanceTimeline | null = null;
}

export class Recorder {
  private readonly slo: SloConfig;
  private readonly sloClasses: SloClasses | undefined;
  private readonly onCallClosed: ((row: CallRow) => void) | undefined;
  private readonly open = new Map<string, OpenCall>();
  private readonly instanceTotals = new Map<string, InstanceTotals>();

  private arrived = 0;
  private completed = 0;
  private failed = 0;
  private rejected = 0;
  private firstArrival_s = Infinity;
  private lastClose_s = -Infinity;
  private inputTokens = 0;
  private outputTokens = 0;
  private metSlo = 0;
  private readonly rejections = new Map<string, number>();
  private readonly failures = new Map<string, number>();

  // Latencies of completed calls, in close order.
  private readonly ttft_s: SampleSeries;
  private readonly tpot_s: SampleSeries;
  private readonly e2e_s: SampleSeries;
  private readonly queue_s: SampleSeries;
  private readonly itl_s = new LogHistogram();
  private readonly workflows: WorkflowRecorder;
  private readonly timeline: TimelineOptions | undefined;
  private readonly workflowSteps = new WorkflowStepsRecorder();

  constructor(opts: RecorderOptions) {
    for (const key of ["ttft_s", "tpot_s", "e2e_s"] as const) {
      const target = opts.slo[key];
      if (target !== undefined && !(target > 0 && target < Infinity)) {
        throw new Error(`Recorder: SLO ${key} must be a positive number of seconds, got ${target}`);
      }
    }
    for (const [name, targets] of Object.entries(opts.slo.classes?.classes ?? {})) {
      for (const [key, target] of Object.entries(targets)) {
        if (target !== undefined && !(target > 0 && target < Infinity)) {
          throw new Error(`Recorder: SLO class ${name} ${key} must be a positive number of seconds, got ${target}`);
        }
      }
    }
    const { classes, ...targets } = opts.slo;
    this.slo = targets;
    this.sloClasses = classes && new SloClasses(targets, classes);
    this.onCallClosed = opts.onCallClosed;
    const series = opts.series ?? (() => new FloatSeries());
    this.ttft_s = series("ttft_s");
    this.tpot_s = series("tpot_s");
    this.e2e_s = series("e2e_s");
    this.queue_s = series("queue_s");
    this.workflows = new WorkflowRecorder(opts.onWorkflowClosed, series);
    this.timeline = opts.timeline && { ...opts.timeline };
  }

  workflowArrived(at_s: number, info: WorkflowArrival): void {
    this.workflows.arrivedAt(at_s, info);
    this.workflowSteps.arrived(at_s, info.id, info.app);
  }

  workflowClosed(at_s: number, workflowId: string, status: WorkflowStatus, reason: string | null): void {
    this.workflows.closedAt(at_s, workflowId, status, reason);
    this.workflowSteps.closed(at_s, workflowId, status === "completed");
    if (at_s > this.lastClose_s) this.lastClose_s = at_s;
  }

  /** A workflow's tool step ran from start_s to end_s (reported by the host when it ends, before
   *  the controller hears of it). Only timings: tools are not calls. */
  toolStep(workflowId: string, stepId: string, start_s: number, end_s: number): void {
    if (!(end_s >= start_s)) throw new Error(`tool step ${workflowId}/${stepId} ended at ${end_s} s, before its start at ${start_s} s`);
    this.workflowSteps.step(workflowId, { step_id: stepId, kind: "tool", start_s, end_s });
  }

  callArrived(at_s: number, call: LlmCall): void {
    if (this.open.has(call.id)) throw new Error(`call ${call.id} arrived twice`);
    if (!Number.isFinite(at_s)) throw new Error(`call ${call.id} arrived at ${at_s} s`);
    this.open.set(call.id, new OpenCall(call, at_s));
    this.arrived++;
    if (at_s < this.firstArrival_s) this.firstArrival_s = at_s;
  }

  /** May repeat after a retry; the last dispatch is the call's instance and ends its queueing. */
  callDispatched(at_s: number, callId: string, instanceId: string): void {
    const rec = this.openCall(callId);
    if (!(at_s >= rec.arrival_s)) {
      throw new Error(`call ${callId} dispatched at ${at_s} s, before its arrival at ${rec.arrival_s} s`);
    }
    rec.dispatched_s = at_s;
    rec.instance = instanceId;
    this.totalsOf(instanceId).dispatched++;
  }

  callFirstToken(at_s: number, callId: string): void {
    const rec = this.openCall(callId);
    if (rec.instance === null) throw new Error(`call ${callId} got a first token before any dispatch`);
    if (!Number.isNaN(rec.first_token_s)) throw new Error(`call ${callId} got a first token twice`);
    if (!(at_s >= rec.dispatched_s)) {
      throw new Error(`call ${callId} got its first token at ${at_s} s, before its dispatch at ${rec.dispatched_s} s`);
    }
    rec.first_token_s = at_s;
    rec.last_token_s = at_s;
  }

  /** Hot path (once per engine step per decoding call): a map lookup, a histogram slot, no
   *  allocation. One ITL sample per chunk, whatever `count`, as vLLM's benchmark counts them. */
  callTokens(at_s: number, callId: string, count: number): void {
    const rec = this.open.get(callId);
    if (rec === undefined) throw unknownCall(callId);
    const gap_s = at_s - rec.last_token_s; // NaN when no first token yet
    if (!(gap_s >= 0) || !(count > 0)) {
      throw new Error(`call ${callId}: tokens at ${at_s} s (count ${count}) before its first token or going back in time`);
    }
    this.itl_s.record(gap_s);
    rec.last_token_s = at_s;
  }

  /** Inter-token gaps reported in aggregate: `count` tokens, each `gap_s` after its call's previous
   *  token (the simulator reports a step's decode tokens this way; live hosts use callTokens). */
  interTokenGaps(gap_s: number, count: number): void {
    this.itl_s.recordMany(gap_s, count);
  }

  callFinished(at_s: number, callId: string, usage: CallUsage): void {
    const rec = this.openCall(callId);
    if (rec.instance === null) throw new Error(`call ${callId} finished without being dispatched`);
    const hasFirstToken = !Number.isNaN(rec.first_token_s);
    if (usage.output_tokens > 0 && !hasFirstToken) {
      throw new Error(`call ${callId} finished with ${usage.output_tokens} output tokens but no first token`);
    }
    if (hasFirstToken && !(at_s >= rec.last_token_s)) {
      throw new Error(`call ${callId} finished at ${at_s} s, before its last token at ${rec.last_token_s} s`);
    }
    this.close(at_s, callId);
    const e2e_s = at_s - rec.arrival_s;
    const queue_s = rec.dispatched_s - rec.arrival_s;
    const ttft_s = hasFirstToken ? rec.first_token_s - rec.arrival_s : null;
    // TPOT needs at least two tokens: (e2e − ttft) spans output − 1 gaps.
    const tpot_s = ttft_s !== null && usage.output_tokens > 1 ? (e2e_s - ttft_s) / (usage.output_tokens - 1) : null;

    this.completed++;
    this.inputTokens += usage.prompt_tokens;
    this.outputTokens += usage.output_tokens;
    this.e2e_s.push(e2e_s);
    this.queue_s.push(queue_s);
    if (ttft_s !== null) this.ttft_s.push(ttft_s);
    if (tpot_s !== null) this.tpot_s.push(tpot_s);
    if (this.sloClasses) {
      const name = this.sloClasses.classOf(rec.call);
      const met = meetsTargets(this.sloClasses.targetsOf(name), ttft_s, tpot_s, e2e_s);
      this.sloClasses.completed(name, met);
      if (met) this.metSlo++;
    } else if (this.meetsSlo(ttft_s, tpot_s, e2e_s)) this.metSlo++;

    const totals = this.totalsOf(rec.instance);
    totals.completed++;
    totals.output_tokens += usage.output_tokens;
    totals.e2e_sum_s += e2e_s;
    if (ttft_s !== null) {
      totals.ttft_sum_s += ttft_s;
      totals.ttft_count++;
    }

    if (rec.call.workflow_id !== undefined) this.workflowStep(rec, at_s);
    this.emit({
      ...this.baseRow(rec, "finished", null, at_s),
      ttft_s,
      tpot_s,
      e2e_s,
      prompt_tokens: usage.prompt_tokens,
      cached_tokens: usage.cached_tokens,
      output_tokens: usage.output_tokens,
      preemptions: usage.preemptions,
    });
  }

  callFailed(at_s: number, callId: string, reason: string): void {
    const rec = this.close(at_s, callId);
    this.failed++;
    countReason(this.failures, reason);
    if (rec.instance !== null) this.totalsOf(rec.instance).failed++;
    this.emit(this.baseRow(rec, "failed", reason, at_s));
  }

  /** Rejected before any token: too long, queue full, no instance. */
  callRejected(at_s: number, callId: string, reason: string): void {
    const rec = this.openCall(callId);
    if (!Number.isNaN(rec.first_token_s)) throw new Error(`call ${callId} rejected after its first token`);
    this.close(at_s, callId);
    this.rejected++;
    countReason(this.rejections, reason);
    this.emit(this.baseRow(rec, "rejected", reason, at_s));
  }

  /** A scraped snapshot; the latest (by at_s) per instance holds its cumulative counters. */
  instanceObserved(snapshot: InstanceSnapshot): void {
    const totals = this.totalsOf(snapshot.instance);
    if (snapshot.kv_usage > totals.peak_kv_usage) totals.peak_kv_usage = snapshot.kv_usage;
    if (totals.last === null || snapshot.at_s >= totals.last.at_s) totals.last = snapshot;
    if (this.timeline !== undefined) (totals.timeline ??= new InstanceTimeline(snapshot.instance, this.timeline)).observe(snapshot);
  }

  /** Per-instance timelines in the order of `specs` (report `timelines`); undefined when the
   *  recorder was not asked to sample them. An instance never observed has empty columns. */
  timelines(specs: InstanceSpec[]): InstanceTimelineData[] | undefined {
    const options = this.timeline;
    if (options === undefined) return undefined;
    return specs.map((spec) => (this.instanceTotals.get(spec.id)?.timeline ?? new InstanceTimeline(spec.id, options)).data());
  }

  /** The steps of the completed workflow with the longest makespan (report `longest_workflow`). */
  longestWorkflow(): LongestWorkflow | undefined {
    return this.workflowSteps.result();
  }

  /** Number of calls arrived and not yet closed. */
  get inFlight(): number {
    return this.open.size;
  }

  summary(): Summary {
    const duration_s = this.lastClose_s >= this.firstArrival_s ? this.lastClose_s - this.firstArrival_s : 0;
    const perSecond = (n: number): number => (duration_s > 0 ? n / duration_s : 0);

    let queried = 0;
    let hits = 0;
    let preemptions = 0;
    let tiered = false;
    const tierHits = { gpu: 0, cpu: 0, disk: 0 };
    for (const id of sortedKeys(this.instanceTotals)) {
      const last = this.instanceTotals.get(id)!.last;
      if (last === null) continue;
      queried += last.prefix_queried_tokens;
      hits += last.prefix_hit_tokens;
      preemptions += last.preemptions;
      const tiers = hitsByTier(last);
      if (tiers === undefined) continue;
      tiered = true;
      tierHits.gpu += tiers.gpu;
      tierHits.cpu += tiers.cpu;
      tierHits.disk += tiers.disk;
    }
    const prefix_cache: Summary["prefix_cache"] = { queried_tokens: queried, hit_tokens: hits, hit_rate: ratio(hits, queried) };
    if (tiered) {
      // Instances that report no tiers count all their hits as GPU hits, so the three add up.
      prefix_cache.gpu_hit_tokens = hits - tierHits.cpu - tierHits.disk;
      prefix_cache.cpu_hit_tokens = tierHits.cpu;
      prefix_cache.disk_hit_tokens = tierHits.disk;
    }

    return {
      duration_s,
      calls: {
        arrived: this.arrived,
        completed: this.completed,
        failed: this.failed,
        rejected: this.rejected,
      },
      ttft_s: exactDistribution(this.ttft_s),
      tpot_s: exactDistribution(this.tpot_s),
      itl_s: sketchedDistribution(this.itl_s),
      e2e_s: exactDistribution(this.e2e_s),
      queue_s: exactDistribution(this.queue_s),
      throughput: {
        requests_per_s: perSecond(this.completed),
        input_tokens_per_s: perSecond(this.inputTokens),
        output_tokens_per_s: perSecond(this.outputTokens),
      },
      goodput_requests_per_s: perSecond(this.metSlo),
      slo: {
        ...this.slo,
        attainment: this.completed > 0 ? this.metSlo / this.completed : 0,
      },
      slo_classes: this.sloClasses?.summary(duration_s),
      prefix_cache,
      preemptions,
      rejections: sortedRecord(this.rejections),
      failures: sortedRecord(this.failures),
      ...this.workflows.summary(),
    };
  }

  /** Per-instance summaries in the order of `specs`. Every instance the recorder heard of must be
   *  among them, so that no dispatched call goes uncounted. */
  instances(specs: InstanceSpec[]): InstanceSummary[] {
    const known = new Set(specs.map((spec) => spec.id));
    for (const id of sortedKeys(this.instanceTotals)) {
      if (!known.has(id)) throw new Error(`Recorder: instance ${id} saw events but is not among the instance specs`);
    }
    return specs.map((spec) => {
      const t = this.instanceTotals.get(spec.id) ?? new InstanceTotals();
      const queried = t.last?.prefix_queried_tokens ?? 0;
      const hits = t.last?.prefix_hit_tokens ?? 0;
      const tiers = t.last === null ? undefined : hitsByTier(t.last);
      const byTier = tiers === undefined ? {} : { prefix_gpu_hit_tokens: tiers.gpu, prefix_cpu_hit_tokens: tiers.cpu, prefix_disk_hit_tokens: tiers.disk };
      return {
        id: spec.id,
        model: spec.model,
        gpu: spec.gpu,
        tensor_parallel: spec.tensor_parallel,
        kv_capacity_tokens: spec.kv_capacity_tokens,
        dispatched: t.dispatched,
        completed: t.completed,
        failed: t.failed,
        output_tokens: t.output_tokens,
        mean_ttft_s: ratio(t.ttft_sum_s, t.ttft_count),
        mean_e2e_s: ratio(t.e2e_sum_s, t.completed),
        peak_kv_usage: t.peak_kv_usage,
        prefix_queried_tokens: queried,
        prefix_hit_tokens: hits,
        prefix_hit_rate: ratio(hits, queried),
        ...byTier,
        preemptions: t.last?.preemptions ?? 0,
      };
    });
  }

  private openCall(callId: string): OpenCall {
    const rec = this.open.get(callId);
    if (rec === undefined) throw unknownCall(callId);
    return rec;
  }

  /** Remove the call from the open set (each call closes exactly once) and note the close time. */
  private close(at_s: number, callId: string): OpenCall {
    const rec = this.openCall(callId);
    if (!(at_s >= rec.arrival_s)) {
      throw new Error(`call ${callId} closed at ${at_s} s, before its arrival at ${rec.arrival_s} s`);
    }
    this.open.delete(callId);
    if (at_s > this.lastClose_s) this.lastClose_s = at_s;
    return rec;
  }

  private meetsSlo(ttft_s: number | null, tpot_s: number | null, e2e_s: number): boolean {
    const { slo } = this;
    // A call with no TTFT (no output) or no TPOT (one token) has nothing to miss on that metric.
    if (slo.ttft_s !== undefined && ttft_s !== null && ttft_s > slo.ttft_s) return false;
    if (slo.tpot_s !== undefined && tpot_s !== null && tpot_s > slo.tpot_s) return false;
    if (slo.e2e_s !== undefined && e2e_s > slo.e2e_s) return false;
    return true;
  }

  private baseRow(rec: OpenCall, status: CallRow["status"], reason: string | null, at_s: number): CallRow {
    const call = rec.call;
    const dispatched = !Number.isNaN(rec.dispatched_s);
    const firstToken = !Number.isNaN(rec.first_token_s);
    return {
      call_id: call.id,
      status,
      reason,
      instance: rec.instance,
      model: call.model ?? null,
      tenant: call.tenant ?? null,
      arrival_s: rec.arrival_s,
      dispatched_s: dispatched ? rec.dispatched_s : null,
      first_token_s: firstToken ? rec.first_token_s : null,
      finished_s: at_s,
      queue_s: dispatched ? rec.dispatched_s - rec.arrival_s : null,
      ttft_s: firstToken ? rec.first_token_s - rec.arrival_s : null,
      tpot_s: null,
      e2e_s: null,
      prompt_tokens: call.prompt_tokens,
      cached_tokens: null,
      output_tokens: null,
      preemptions: null,
      agent: call.agent ?? null,
    };
  }

  /** A workflow's LLM step closed (finished): its timings for the longest-workflow Gantt. */
  private workflowStep(rec: OpenCall, at_s: number): void {
    const call = rec.call;
    this.workflowSteps.step(call.workflow_id!, {
      step_id: call.step_id ?? call.id,
      kind: "llm",
      agent: call.agent,
      instance: rec.instance ?? undefined,
      start_s: rec.arrival_s,
      dispatched_s: Number.isNaN(rec.dispatched_s) ? undefined : rec.dispatched_s,
      first_token_s: Number.isNaN(rec.first_token_s) ? undefined : rec.first_token_s,
      end_s: at_s,
    });
  }

  private emit(row: CallRow): void {
    this.onCallClosed?.(row);
  }

  private totalsOf(instanceId: string): InstanceTotals {
    let totals = this.instanceTotals.get(instanceId);
    if (totals === undefined) {
      totals = new InstanceTotals();
      this.instanceTotals.set(instanceId, totals);
    }
    return totals;
  }
}

function unknownCall(callId: string): Error {
  return new Error(`call ${callId} is not open: it never arrived or has already closed`);
}

function countReason(counts: Map<string, number>, reason: string): void {
  counts.set(reason, (counts.get(reason) ?? 0) + 1);
}

/** Map keys in code-unit order, so output never depends on insertion history. */
function sortedKeys<V>(map: Map<string, V>): string[] {
  return [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function sortedRecord(counts: Map<string, number>): Record<string, number> {
  const record: Record<string, number> = {};
  for (const key of sortedKeys(counts)) record[key] = counts.get(key)!;
  return record;
}

/** A snapshot's prefix hits by KV tier, or undefined when it does not report tiers. GPU hits are
 *  what the lower tiers leave of the total, so the three always add up to prefix_hit_tokens. */
function hitsByTier(snapshot: InstanceSnapshot): { gpu: number; cpu: number; disk: number } | undefined {
  if (snapshot.gpu_hit_tokens === undefined && snapshot.cpu_hit_tokens === undefined && snapshot.disk_hit_tokens === undefined) {
    return undefined;
  }
  const cpu = snapshot.cpu_hit_tokens ?? 0;
  const disk = snapshot.disk_hit_tokens ?? 0;
  return { gpu: snapshot.prefix_hit_tokens - cpu - disk, cpu, disk };
}

/** a / b, or 0 when b is 0 (hit rate with no queries, mean of nothing): never NaN in a report. */
function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}
