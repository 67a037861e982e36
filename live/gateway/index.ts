export { GATEWAY_DEFAULTS, startGateway, type Gateway, type GatewayOptions } from "./gateway.ts";
export type { GatewayShutdown } from "./shutdown.ts";
export { GatewayError } from "./errors.ts";
export { IDENTITY_FIELDS, type CallIdentity } from "./identity.ts";
