import type { GatewayContext } from "./context.ts";
import { GatewayError } from "./errors.ts";
import type { GatewayInstance, ModelRoute } from "./models.ts";

/** kvcached's router surface, carried out through the live host: the controller hears of each
 *  transition (an asleep or waking instance takes no calls), the instance gets vLLM's /sleep or
 *  /wake_up, and the model's traffic statistics count it. */

/** Puts every awake instance of the model to sleep; resolves when they all sleep. */
export async function sleepModel(ctx: GatewayContext, route: ModelRoute, only?: GatewayInstance): Promise<void> {
  const targets = (only ? [only] : route.instances).filter((i) => ctx.control.sleepState(i.id) === "awake" && !ctx.control.isDown(i.id));
  await Promise.all(
    targets.map(async (i) => {
      ctx.host.instanceStateChanged(i.id, "asleep");
      ctx.metrics.instanceEvent(i.id, "sleep");
      try {
        await ctx.control.sleep(i.id);
      } catch (error) {
        ctx.host.instanceStateChanged(i.id, "awake");
        throw new GatewayError(502, `instance ${i.id}: /sleep failed: ${(error as Error).message}`, "upstream_failed");
      }
    }),
  );
  // Requests that came while it went to sleep wait for it.
  if (ctx.wake_on_request && ctx.occupancy.of(route.model).queued > 0) wakeForRequest(ctx, route);
}

/** Wakes every sleeping instance of the model; resolves when they are all awake. */
export async function wakeModel(ctx: GatewayContext, route: ModelRoute, only?: GatewayInstance): Promise<void> {
  const targets = (only ? [only] : route.instances).filter((i) => ctx.control.sleepState(i.id) === "asleep" && !ctx.control.isDown(i.id));
  await Promise.all(targets.map((i) => wakeInstance(ctx, i)));
}

async function wakeInstance(ctx: GatewayContext, i: GatewayInstance): Promise<void> {
  ctx.host.instanceStateChanged(i.id, "waking");
  ctx.metrics.instanceEvent(i.id, "wake");
  try {
    await ctx.control.wake(i.id);
  } catch (error) {
    ctx.host.instanceStateChanged(i.id, "asleep");
    throw new GatewayError(502, `instance ${i.id}: /wake_up failed: ${(error as Error).message}`, "upstream_failed");
  }
  if (!ctx.control.isDown(i.id)) ctx.host.instanceStateChanged(i.id, "awake");
}

/** True when every instance of the model sleeps. */
export function isSleeping(ctx: GatewayContext, route: ModelRoute): boolean {
  return route.instances.every((i) => ctx.control.sleepState(i.id) === "asleep");
}

/** Wake on request (without a sleep policy in the config, which does it itself): a request for a
 *  model with no instance awake or waking wakes one; the call waits at the controller meanwhile. */
export function wakeForRequest(ctx: GatewayContext, route: ModelRoute): void {
  let sleeper: GatewayInstance | undefined;
  for (const i of route.instances) {
    if (ctx.control.isDown(i.id)) continue;
    const state = ctx.control.sleepState(i.id);
    if (state === "awake" || state === "waking") return;
    if (state === "asleep") sleeper ??= i;
  }
  if (sleeper !== undefined) {
    wakeInstance(ctx, sleeper).catch((error: unknown) => process.stderr.write(`tandem gateway: ${(error as Error).message}\n`));
  }
}
