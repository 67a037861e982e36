/** Routes that answer without an API key when `--keys` is given: load balancers probe health and
 *  Prometheus scrapes metrics without one (vLLM's `--api-key` likewise guards only `/v1`). */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(["/health", "/health/{model}", "/metrics"]);
