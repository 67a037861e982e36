import type { Exposition } from "../../emulator/prometheus.ts";
import type { DispatchPolicy } from "../../../src/policies/dispatch/policy.ts";
import type { SchedulingPolicy } from "../../../src/policies/scheduling/policy.ts";
import { RedisConcurrency } from "./redis-concurrency.ts";
import { RedisLink } from "./redis-link.ts";
import { RedisRateLimits } from "./redis-rate-limits.ts";
import { Replicator } from "./replicator.ts";
import { SharedPolicies } from "./shared-policies.ts";

export interface SharedStateOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  url: string;
  /** Replicas of one deployment share a name (default "default"); two deployments on one Redis differ. */
  name?: string;
  /** Model seconds per wall second (held calls are retried a few wall ms later). */
  speedup: number;
  log?: (line: string) => void;
}

const HEARTBEAT_MS = 500;
const RETRY_WALL_S = 0.005;

/** `tandem gateway --redis URL` (docs/gateway-replicas.md): the state N replicas share. */
export class SharedState {
  readonly link: RedisLink;
  readonly replicator: Replicator;
  readonly limits: RedisRateLimits;
  readonly concurrency: RedisConcurrency;
  private policies: SharedPolicies | undefined;
  /** Calls in flight per API key label (heartbeat, for `redis-cli GET`). */
  keysInFlight: () => ReadonlyMap<string, number> = () => new Map();
  /** Calls in flight per key digest (max_concurrency's slots, rewritten after an outage). */
  slotsInFlight: () => ReadonlyMap<string, number> = () => new Map();

  private constructor(options: SharedStateOptions) {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const prefix = `tandem:gw:${options.name ?? "default"}:`;
    this.link = new RedisLink(options.url, log);
    this.replicator = new Replicator(this.link, {
      prefix,
      heartbeat_ms: HEARTBEAT_MS,
      stream_max: 200_000,
      outbox_max: 200_000,
      beat: () => ({ outstanding: this.policies?.localOutstanding() ?? {}, keys: Object.fromEntries(this.keysInFlight()) }),
      openCalls: () => this.policies?.openCalls() ?? [],
    });
    this.limits = new RedisRateLimits(this.link, prefix);
    this.concurrency = new RedisConcurrency(this.link, prefix, this.replicator.replica);
    // The heartbeat first: slots of a replica without one are freed by the others.
    this.link.onReconnect = () => void this.replicator.reconcile().then(() => this.concurrency.resync(this.slotsInFlight()));
  }

  /** Connects (an InputError when Redis cannot be reached at start). */
  static async connect(options: SharedStateOptions): Promise<SharedState> {
    const state = new SharedState(options);
    await state.link.connect();
    return state;
  }

  /** Wraps the replica's policies and starts sharing (before the first call arrives). */
  async share(scheduling: SchedulingPolicy, dispatch: DispatchPolicy, speedup: number): Promise<{ scheduling: SchedulingPolicy; dispatch: DispatchPolicy }> {
    const policies = new SharedPolicies(scheduling, dispatch, this.replicator, RETRY_WALL_S * speedup);
    this.policies = policies;
    await this.replicator.start(policies);
    return { scheduling: policies.scheduling(), dispatch: policies.dispatch() };
  }

  render(x: Exposition): void {
    const s = this.link.stats;
    const c = this.replicator.counts;
    x.gauge("tandem_gateway_shared_state_up", "1 while Redis is reachable (0: this replica routes on its local state).", [], this.link.up ? 1 : 0);
    x.counter("tandem_gateway_shared_state_outages", "Times Redis became unreachable (the replica fell back to local state).", [], s.outages);
    x.counter("tandem_gateway_shared_state_reconciles", "Times Redis came back and the replica reconciled (outbox sent, open calls re-announced).", [], s.reconciles);
    x.gauge("tandem_gateway_shared_state_replicas", "Replicas alive at the last heartbeat, this one included.", [], c.replicas);
    x.family("tandem_gateway_shared_state_remote_calls", "gauge", "Calls the other live replicas have in flight at each instance (this replica's mirror of them).");
    for (const [instance, o] of this.replicator.remoteCallsByInstance()) x.sample("tandem_gateway_shared_state_remote_calls", [["instance", instance]], o.calls);
    x.counter("tandem_gateway_shared_state_events_published", "Call events (arrival, dispatch, close) this replica sent to the others.", [], c.published);
    x.counter("tandem_gateway_shared_state_events_received", "Call events received from the other replicas.", [], c.received);
    x.counter("tandem_gateway_shared_state_events_dropped", "Events dropped from a full outbox while Redis was unreachable.", [], c.dropped);
    x.counter("tandem_gateway_shared_state_expired_calls", "Calls of replicas whose heartbeat expired, closed in this replica's mirror.", [], c.expired_calls);
    x.counter("tandem_gateway_shared_state_order_holds", "Dispatch decisions held because another replica had a call ranked ahead (vtc).", [], this.policies?.counts.order_holds ?? 0);
    x.counter("tandem_gateway_shared_state_rate_limit_fallbacks", "Rate-limit checks made on local buckets because Redis was unreachable.", [], this.limits.fallbacks);
  }

  async close(): Promise<void> {
    await this.replicator.close();
    await this.link.close();
    await this.replicator.stopped();
  }
}
