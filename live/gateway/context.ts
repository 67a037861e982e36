import type { LiveClock } from "../host/clock.ts";
import type { LiveHost } from "../host/live-host.ts";
import type { GatewayAuth } from "./auth/auth.ts";
import type { GatewayControl } from "./control.ts";
import type { ClientExchange, Occupancy } from "./exchange.ts";
import type { GatewayMetrics } from "./metrics.ts";
import type { ModelRoutes } from "./models.ts";
import type { GatewayTransport } from "./transport.ts";
import type { OpenWorkflows } from "./workflows.ts";

export interface GatewayLimits {
  /** Per model: requests waiting in the gateway (for a dispatch decision or a connection) beyond
   *  which new ones get 429. */
  max_queue: number;
  max_body_bytes: number;
  /** Output-token estimate of a request without max_tokens (clamped to what the context leaves). */
  default_max_tokens: number;
}

/** Everything the request handlers act on. */
export interface GatewayContext {
  clock: LiveClock;
  host: LiveHost;
  routes: ModelRoutes;
  control: GatewayControl;
  transport: GatewayTransport;
  metrics: GatewayMetrics;
  workflows: OpenWorkflows;
  occupancy: Occupancy;
  /** Open client requests by call id. */
  exchanges: Map<string, ClientExchange>;
  limits: GatewayLimits;
  /** The config has no sleep policy: the gateway itself wakes a sleeping model on a request. */
  wake_on_request: boolean;
  /** Calls counted in the report (admitted, or turned away with 429). */
  arrived: number;
  /** Shutdown began: new requests get 503. */
  draining: boolean;
  /** Sequence number of the last call id. */
  seq: number;
  /** API keys (`--keys`): absent when the gateway runs without authentication. */
  auth?: GatewayAuth;
}
