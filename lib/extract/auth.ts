/**
 * Authentication: the catalog's `client.auth` (dlt's `api_key`, `bearer`, `http_basic`) filled
 * with the configured secrets, turned into headers and query parameters. The HTTP client sends
 * them only to the configured base URL's origin.
 *
 * @module
 */

import type { AuthConfig } from "../catalog/types.ts";
import type { GitlabSourceConfig } from "../config/types.ts";
import { registerSecret } from "../common/redact.ts";

/** Headers and query parameters that carry the credentials. */
export interface AuthParts {
  /** Which credential is used, for messages. */
  kind: "api_key" | "bearer" | "http_basic" | "job_token" | "none";
  headers: Record<string, string>;
  query: Record<string, string>;
}

/**
 * Builds the credentials to send. The secret comes from the config (`sources.gitlab.api_key`)
 * first, then from the catalog's auth. With no catalog auth an api key goes in `PRIVATE-TOKEN`
 * (a catalog `api_key` auth without `name` uses dlt's default, `Authorization`);
 * with no api key at all but a CI job token, the token goes in `JOB-TOKEN`. Every secret is
 * registered for redaction.
 *
 * @example
 * ```ts
 * resolveAuth(undefined, { api_key: "glpat-x" }).headers; // { "PRIVATE-TOKEN": "glpat-x" }
 * resolveAuth(undefined, { job_token: "jt" }).headers; // { "JOB-TOKEN": "jt" }
 * ```
 */
export function resolveAuth(
  auth: AuthConfig | undefined,
  source: Pick<GitlabSourceConfig, "api_key" | "job_token"> = {},
): AuthParts {
  const out: AuthParts = { kind: "none", headers: {}, query: {} };
  const type = auth?.type ?? "api_key";
  const jobToken = () => {
    if (source.job_token) {
      registerSecret(source.job_token);
      out.kind = "job_token";
      out.headers["JOB-TOKEN"] = source.job_token;
    }
    return out;
  };
  if (type === "http_basic") {
    const a = auth as Extract<AuthConfig, { type: "http_basic" }>;
    if (a.username === undefined && a.password === undefined) return jobToken();
    registerSecret(a.password);
    const bytes = new TextEncoder().encode(`${a.username ?? ""}:${a.password ?? ""}`);
    const basic = btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
    registerSecret(basic);
    out.kind = "http_basic";
    out.headers["Authorization"] = `Basic ${basic}`;
    return out;
  }
  if (type === "bearer") {
    const token = source.api_key || (auth as { token?: string }).token;
    if (!token) return jobToken();
    registerSecret(token);
    out.kind = "bearer";
    out.headers["Authorization"] = `Bearer ${token}`;
    return out;
  }
  const a = (auth ?? { type: "api_key" }) as Extract<AuthConfig, { type: "api_key" }>;
  const key = source.api_key || a.api_key;
  if (!key) return jobToken();
  registerSecret(key);
  out.kind = "api_key";
  const inQuery = a.location === "query" || a.location === "param";
  // a catalog's api_key auth without a name uses dlt's default name, "Authorization"; GitLab's
  // own names only when the catalog has no auth at all
  const name = a.name ?? (auth ? "Authorization" : inQuery ? "private_token" : "PRIVATE-TOKEN");
  if (inQuery) out.query[name] = key;
  else out.headers[name] = key;
  return out;
}
