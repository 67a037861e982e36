import type { InstanceSnapshot } from "../../src/core/types.ts";
import { measureApiLatency, type ApiLatency } from "../host/api-latency.ts";
import type { InstanceState } from "../../src/core/view.ts";
import type { LiveClock } from "../host/clock.ts";
import type { InstanceControl } from "../host/transport.ts";
import { InstanceHandle } from "../instances/index.ts";

/** An instance's sleep mode as the gateway last made it (vLLM /sleep, /wake_up). */
export type SleepState = "awake" | "going_to_sleep" | "asleep" | "waking";

export interface ControlEndpoint {
  id: string;
  url: string;
  served_model: string;
}

interface Tracked {
  sleep: SleepState;
  /** Unreachable: taken out of dispatch until /health answers again. */
  down: boolean;
  reason: string | undefined;
  observeFailures: number;
}

/** Scrapes that must fail in a row before an instance counts as down. */
const OBSERVE_FAILURES_DOWN = 2;

/** The instances' control plane for the live host (scrapes, sleep, wake) and the gateway (health),
 *  keeping what it knows of each: its sleep state and whether it is reachable. */
export class GatewayControl implements InstanceControl {
  private readonly handles = new Map<string, InstanceHandle>();
  private readonly tracked = new Map<string, Tracked>();
  /** Told when an instance is found unreachable (a connect failure, scrapes failing in a row). */
  onDown: (id: string, reason: string) => void = () => {};

  constructor(clock: LiveClock, endpoints: readonly ControlEndpoint[], api_key?: string) {
    for (const e of endpoints) {
      this.handles.set(
        e.id,
        new InstanceHandle({
          id: e.id,
          base_url: e.url,
          now_s: () => clock.now_s(),
          model: e.served_model,
          request_timeout_s: 2,
          ...(api_key !== undefined ? { api_key } : {}),
        }),
      );
      this.tracked.set(e.id, { sleep: "awake", down: false, reason: undefined, observeFailures: 0 });
    }
  }

  /** The HTTP round trip to each instance (GET /health, one instance at a time), in model seconds:
   *  recorded on the report's instances as `api_latency_s`, as `tandem live` does. */
  async measureApiLatencies(speedup: number): Promise<Map<string, ApiLatency>> {
    const out = new Map<string, ApiLatency>();
    for (const handle of this.handles.values()) {
      out.set(handle.id, await measureApiLatency(async () => (await handle.health()).ok, { speedup, describe: `instance ${handle.id}` }));
    }
    return out;
  }

  /** Every server answers /health and serves its model; throws naming the first that does not. */
  async checkReachable(): Promise<void> {
    await Promise.all([...this.handles.values()].map((handle) => handle.checkServing(handle.model!)));
  }

  async observe(instanceId: string): Promise<InstanceSnapshot> {
    const t = this.state(instanceId);
    try {
      const { snapshot } = await this.handle(instanceId).scrape();
      t.observeFailures = 0;
      return snapshot;
    } catch (error) {
      if (++t.observeFailures >= OBSERVE_FAILURES_DOWN) this.onDown(instanceId, `metrics: ${(error as Error).message}`);
      throw error;
    }
  }

  async sleep(instanceId: string): Promise<void> {
    const t = this.state(instanceId);
    t.sleep = "going_to_sleep";
    try {
      await this.handle(instanceId).sleep(1);
      t.sleep = "asleep";
    } catch (error) {
      t.sleep = "awake";
      throw error;
    }
  }

  async wake(instanceId: string): Promise<void> {
    const t = this.state(instanceId);
    const before = t.sleep;
    t.sleep = "waking";
    try {
      await this.handle(instanceId).wakeUp();
      t.sleep = "awake";
    } catch (error) {
      t.sleep = before;
      throw error;
    }
  }

  health(instanceId: string): Promise<{ ok: boolean; reason?: string }> {
    return this.handle(instanceId).health();
  }

  sleepState(instanceId: string): SleepState {
    return this.state(instanceId).sleep;
  }

  isDown(instanceId: string): boolean {
    return this.state(instanceId).down;
  }

  downReason(instanceId: string): string | undefined {
    return this.state(instanceId).reason;
  }

  /** Marks an instance down or up; returns whether that changed anything. */
  setDown(instanceId: string, down: boolean, reason?: string): boolean {
    const t = this.state(instanceId);
    if (t.down === down) return false;
    t.down = down;
    t.reason = down ? reason : undefined;
    if (!down) t.observeFailures = 0;
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((h) => h.close()));
  }

  private handle(instanceId: string): InstanceHandle {
    const handle = this.handles.get(instanceId);
    if (!handle) throw new Error(`unknown instance ${instanceId}`);
    return handle;
  }

  private state(instanceId: string): Tracked {
    const t = this.tracked.get(instanceId);
    if (!t) throw new Error(`unknown instance ${instanceId}`);
    return t;
  }
}

/** Takes unreachable instances out of dispatch (the controller sees them `stopped`) and puts them
 *  back once their /health answers, probing every `probe_ms` wall milliseconds. */
export class InstanceHealth {
  private timer: ReturnType<typeof setInterval> | undefined;
  private probing = false;
  private stopped = false;

  constructor(
    private readonly control: GatewayControl,
    private readonly setState: (instanceId: string, state: InstanceState) => void,
    private readonly ids: readonly string[],
    private readonly probe_ms = 1000,
    private readonly onChange: (instanceId: string, up: boolean, reason: string | undefined) => void = () => {},
  ) {
    control.onDown = (id, reason) => this.markDown(id, reason);
  }

  markDown(instanceId: string, reason: string): void {
    if (this.stopped) return;
    if (!this.control.setDown(instanceId, true, reason)) return;
    this.setState(instanceId, "stopped");
    this.onChange(instanceId, false, reason);
    this.timer ??= setInterval(() => void this.probe(), this.probe_ms);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const down = this.ids.filter((id) => this.control.isDown(id));
      await Promise.all(
        down.map(async (id) => {
          const health = await this.control.health(id);
          if (!health.ok || this.stopped) return;
          if (!this.control.setDown(id, false)) return;
          this.setState(id, this.control.sleepState(id) === "asleep" ? "asleep" : "awake");
          this.onChange(id, true, undefined);
        }),
      );
      if (!this.ids.some((id) => this.control.isDown(id))) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    } finally {
      this.probing = false;
    }
  }
}
