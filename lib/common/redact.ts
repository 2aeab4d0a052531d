/**
 * The one place secrets are removed from text: URLs, headers, connection strings and
 * any registered secret value. Every message, log line, trace and state row passes here.
 *
 * @module
 */

const registered = new Set<string>();

/**
 * Registers a secret value (a token, a password) so {@linkcode redact} masks it wherever it
 * appears. Values shorter than 4 characters are ignored (they would mask ordinary text).
 *
 * @example
 * ```ts
 * registerSecret("glpat-abc123");
 * redact("token glpat-abc123"); // "token ***"
 * ```
 */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) registered.add(value);
}

/** Forgets all registered secrets (for tests). */
export function clearSecrets(): void {
  registered.clear();
}

const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):([^@/?#\s]*)@/gi;
// a value ends at the next parameter, a space, a quote, or a ")" it did not open (a URL in
// parentheses keeps its closing one: GitLab's tokens hold none); a "(" it opens takes all up
// to its ")" or the value's end
const SECRET_QUERY =
  /([?&](?:private_token|access_token|job_token|token|password|api_key|apikey)=)(?:[^&#\s"'()]|\([^&#\s"')]*\)?)*/gi;
const SECRET_HEADER =
  /((?:private-token|job-token|authorization|x-api-key)["']?\s*[:=]\s*["']?)(?:bearer\s+|basic\s+)?[^\s"',}]+/gi;

/**
 * Returns `text` with secrets replaced by `***`: passwords in URLs, token query parameters,
 * auth header values, and every value given to {@linkcode registerSecret}.
 *
 * @example
 * ```ts
 * redact("postgresql://loader:pw@host:5432/db"); // "postgresql://loader:***@host:5432/db"
 * ```
 */
export function redact(text: string): string {
  let out = text
    .replace(URL_PASSWORD, "$1:***@")
    .replace(SECRET_QUERY, "$1***")
    .replace(SECRET_HEADER, "$1***");
  for (const secret of registered) out = out.split(secret).join("***");
  return out;
}
