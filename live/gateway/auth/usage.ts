import type { Exposition } from "../../emulator/prometheus.ts";

export type RejectReason = "missing_api_key" | "invalid_api_key" | "forbidden_tenant" | "forbidden_priority" | "rate_limited" | "concurrency_limited";

/** One tenant's use of the gateway: what the report's `tenants` lists. */
export interface TenantUsageRow {
  tenant: string;
  /** Calls admitted (past authentication and limits). */
  requests: number;
  finished: number;
  failed: number;
  /** Admitted calls the gateway or an instance turned away later (queue full, context too long…). */
  rejected: number;
  prompt_tokens: number;
  output_tokens: number;
  /** Requests refused by the key checks, by reason (401, 403, 429). */
  refused: Partial<Record<RejectReason, number>>;
}

/** Per-tenant counters of requests, tokens and refusals (unauthenticated refusals count under tenant ""). */
export class TenantUsage {
  private readonly rows = new Map<string, TenantUsageRow>();

  private row(tenant: string): TenantUsageRow {
    let r = this.rows.get(tenant);
    if (r === undefined) {
      r = { tenant, requests: 0, finished: 0, failed: 0, rejected: 0, prompt_tokens: 0, output_tokens: 0, refused: {} };
      this.rows.set(tenant, r);
    }
    return r;
  }

  admitted(tenant: string): void {
    this.row(tenant).requests++;
  }

  rejected(tenant: string, reason: RejectReason): void {
    const r = this.row(tenant);
    r.refused[reason] = (r.refused[reason] ?? 0) + 1;
  }

  closed(tenant: string, status: string, prompt_tokens: number, output_tokens: number): void {
    const r = this.row(tenant);
    if (status === "finished") r.finished++;
    else if (status === "rejected") r.rejected++;
    else r.failed++;
    r.prompt_tokens += prompt_tokens;
    r.output_tokens += output_tokens;
  }

  /** Rows sorted by tenant (the report's order). */
  report(): TenantUsageRow[] {
    return [...this.rows.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0)).map((r) => ({ ...r, refused: { ...r.refused } }));
  }

  render(x: Exposition): void {
    const rows = this.report();
    x.family("tandem_gateway_tenant_requests", "counter", "Calls admitted past the API-key checks, by tenant.");
    for (const r of rows) x.sample("tandem_gateway_tenant_requests_total", [["tenant", r.tenant]], r.requests);
    x.family("tandem_gateway_tenant_tokens", "counter", "Tokens of the tenant's closed calls, by kind (prompt, output).");
    for (const r of rows) {
      x.sample(
        "tandem_gateway_tenant_tokens_total",
        [
          ["tenant", r.tenant],
          ["kind", "prompt"],
        ],
        r.prompt_tokens,
      );
      x.sample(
        "tandem_gateway_tenant_tokens_total",
        [
          ["tenant", r.tenant],
          ["kind", "output"],
        ],
        r.output_tokens,
      );
    }
    x.family("tandem_gateway_tenant_rejections", "counter", 'Requests refused by the API-key checks, by tenant ("" before a key is known) and reason.');
    for (const r of rows)
      for (const [reason, n] of Object.entries(r.refused))
        x.sample(
          "tandem_gateway_tenant_rejections_total",
          [
            ["tenant", r.tenant],
            ["reason", reason],
          ],
          n,
        );
  }
}
