import { Command } from "commander";
import { startGateway, GATEWAY_DEFAULTS } from "../live/gateway/index.ts";
import { DEFAULT_CLUSTER } from "../src/model/cluster-schema.ts";
import { loadClusterConfig } from "../run/config-file.ts";
import { InputError } from "../src/core/errors.ts";
import { formatSummaryTable } from "../src/metrics/summary-table.ts";
import { nonNegativeInteger, positiveInteger, positiveNumber, runAction } from "./errors.ts";
import { addPolicyOptions, policyChoice } from "./run-flags.ts";
import { commandDescription } from "./command-list.ts";

interface GatewayFlags {
  config?: string;
  events?: string;
  host: string;
  port: number;
  emulate?: boolean;
  speedup?: number;
  dispatch?: string;
  scheduling?: string;
  schedulingParam: string[];
  dispatchParam: string[];
  seed?: number;
  observeInterval?: number;
  maxQueue: number;
  maxInFlight: number;
  maxBodyBytes: number;
  defaultMaxTokens: number;
  drainTimeout: number;
  workflowIdle: number;
  upstreamTimeout: number;
  apiKey?: string;
  out: string;
  quiet?: boolean;
  keys?: string;
  auth: boolean;
  redis?: string;
  redisName?: string;
}

export function gatewayCommand(): Command {
  const d = GATEWAY_DEFAULTS;
  const command = new Command("gateway")
    .description(commandDescription("gateway"))
    .option("--config <file>", "cluster config, YAML or JSON (docs/config.md); default 4 × llama-3.1-8b on h100-80gb")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on; 0 picks a free one", nonNegativeInteger, 8080)
    .option("--emulate", "start one vLLM emulator per configured instance on a free 127.0.0.1 port (endpoints ignored)")
    .option("--speedup <x>", "with --emulate: model seconds per wall second (reported times stay in model seconds)", positiveNumber);
  return addPolicyOptions(command)
    .option("--seed <n>", "seed of the policies' random stream (default: config, else 42)", nonNegativeInteger)
    .option("--observe-interval <s>", "seconds between /metrics scrapes of the instances (default: config, else 0.1)", positiveNumber)
    .option("--max-queue <n>", "per model: requests waiting in the gateway (for dispatch or a connection) beyond which new ones get 429", positiveInteger, d.max_queue)
    .option("--max-in-flight <n>", "requests in flight per instance (connections); more wait in the gateway's queue", positiveInteger, d.max_in_flight_per_instance)
    .option("--max-body-bytes <n>", "largest request body; larger ones get 413", positiveInteger, d.max_body_bytes)
    .option("--default-max-tokens <n>", "output-token estimate of a request without max_tokens (what policies see)", positiveInteger, d.default_max_tokens)
    .option("--drain-timeout <s>", "on shutdown, seconds to wait for calls in flight before failing them", positiveNumber, d.drain_timeout_s)
    .option("--workflow-idle <s>", "seconds without calls after which an open-ended workflow (x-tandem-workflow) closes", positiveNumber, d.workflow_idle_s)
    .option("--upstream-timeout <s>", "seconds to wait for an instance's response headers or next chunk", positiveNumber, d.upstream_timeout_s)
    .option("--api-key <key>", "bearer token for the instances (vLLM --api-key); default $TANDEM_API_KEY")
    .option("--out <dir>", "where report.json, calls.csv and workflows.csv go on shutdown", "out/gateway")
    .option("--events <file>", "write every event the controller receives to FILE (JSONL; `tandem replay FILE` rebuilds the report from it)")
    .option("--quiet", "do not print the summary table on shutdown")
    .option("--keys <file>", "API keys, YAML (docs/gateway-auth.md): /v1 requests need Authorization: Bearer KEY; tenant, priority and limits per key; SIGHUP rereads it")
    .option("--redis <url>", "share routing state with other replicas through Redis (docs/gateway-replicas.md), e.g. redis://127.0.0.1:6379")
    .option("--redis-name <name>", "with --redis: the deployment's name; replicas that share state share it", "default")
    .option("--no-auth", "allow a non-loopback --host without --keys (anyone who reaches it may claim any tenant)")
    .action((flags: GatewayFlags) => runAction(() => runGateway(flags)));
}

async function runGateway(flags: GatewayFlags): Promise<void> {
  if (flags.port > 65535) throw new InputError(`--port: ${flags.port} is not a port; expected 0 to 65535`);
  const cluster = flags.config ? await loadClusterConfig(flags.config) : DEFAULT_CLUSTER;
  const scheduling = policyChoice(flags.scheduling, flags.schedulingParam, "--scheduling", cluster.policies?.scheduling);
  const dispatch = policyChoice(flags.dispatch, flags.dispatchParam, "--dispatch", cluster.policies?.dispatch);
  const apiKey = flags.apiKey ?? process.env.TANDEM_API_KEY;
  const gateway = await startGateway({
    cluster,
    ...(flags.config !== undefined ? { clusterFile: flags.config } : {}),
    ...(scheduling !== undefined ? { scheduling } : {}),
    ...(dispatch !== undefined ? { dispatch } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.observeInterval !== undefined ? { observe_interval_s: flags.observeInterval } : {}),
    ...(flags.emulate ? { emulate: true } : {}),
    ...(flags.speedup !== undefined ? { speedup: flags.speedup } : {}),
    ...(apiKey !== undefined ? { api_key: apiKey } : {}),
    host: flags.host,
    port: flags.port,
    max_queue: flags.maxQueue,
    max_in_flight_per_instance: flags.maxInFlight,
    max_body_bytes: flags.maxBodyBytes,
    default_max_tokens: flags.defaultMaxTokens,
    drain_timeout_s: flags.drainTimeout,
    workflow_idle_s: flags.workflowIdle,
    upstream_timeout_s: flags.upstreamTimeout,
    out: flags.out,
    ...(flags.keys !== undefined ? { keys: flags.keys } : {}),
    ...(flags.auth === false ? { no_auth: true } : {}),
    ...(flags.redis !== undefined ? { redis: flags.redis, redis_name: flags.redisName ?? "default" } : {}),
    ...(flags.events !== undefined ? { events: flags.events } : {}),
  });
  const models = gateway.routes.routes.map((r) => r.id).join(", ");
  process.stdout.write(`tandem gateway: listening on ${gateway.url} (models: ${models}; ${gateway.routes.instances.length} instances${flags.emulate ? ", emulated" : ""})\n`);

  await new Promise<void>((resolve) => {
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`tandem gateway: ${signal} again: failing the calls still in flight\n`);
        gateway.abortDrain();
        return;
      }
      process.stderr.write(`tandem gateway: ${signal}: draining (up to ${flags.drainTimeout} s; again to stop now)\n`);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    const auth = gateway.auth;
    if (auth !== undefined) process.on("SIGHUP", () => auth.reload());
  });
  const { report, files, drained } = await gateway.shutdown();
  if (!drained) process.stderr.write(`tandem gateway: calls still in flight at the drain's end were failed (gateway_shutdown)\n`);
  if (!flags.quiet) process.stdout.write(formatSummaryTable(report.summary, report.instances, report.agents) + "\n");
  process.stdout.write(`wrote ${files.join(", ")}\n`);
}
