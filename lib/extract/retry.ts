/**
 * Retry policy of the HTTP client: which statuses are transient, how long to wait (exponential
 * backoff with full jitter, `Retry-After`, GitLab's `RateLimit-*` headers), and a cancellable
 * sleep.
 *
 * @module
 */

/** Whether an HTTP status is worth retrying (429 and every 5xx, as dlt does). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Backoff before attempt `attempt + 1` with full jitter: random() × min(max, base × 2^(n-1)).
 *
 * @example
 * ```ts
 * backoffMs(3, { baseMs: 1000, maxMs: 60000, random: () => 0.5 }); // 2000
 * ```
 */
export function backoffMs(
  attempt: number,
  options: { baseMs: number; maxMs: number; random: () => number },
): number {
  return options.random() * Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
}

/**
 * How long a retryable response asks us to wait: `Retry-After` (seconds or an HTTP date); for
 * a 429 without it, GitLab's `RateLimit-ResetTime` (date) or `RateLimit-Reset` (Unix time).
 * `undefined` = no hint (back off).
 */
export function serverDelayMs(status: number, headers: Headers, now: number): number | undefined {
  now = serverClock(headers, now);
  let delay = parseRetryAfter(headers.get("retry-after"), now);
  if (delay === undefined && status === 429) {
    delay = parseRetryAfter(headers.get("ratelimit-resettime"), now);
    const reset = Number(headers.get("ratelimit-reset"));
    if (delay === undefined && reset > 0) delay = Math.max(0, reset * 1000 - now);
  }
  return delay;
}

/**
 * The server's clock at a response, read from its `Date` header when it is off ours by more
 * than the header's whole seconds and a request's latency explain (a server or a client
 * without NTP, as on air-gapped machines), else ours: the absolute times of its headers
 * (`RateLimit-Reset`, a `Retry-After` date) are compared with this.
 *
 * @example
 * ```ts
 * const now = Date.parse("2026-01-01T12:00:00.300Z");
 * serverClock(new Headers({ date: "Thu, 01 Jan 2026 12:00:00 GMT" }), now) === now; // true
 * serverClock(new Headers({ date: "Thu, 01 Jan 2026 12:05:00 GMT" }), now); // 12:05:00.5
 * ```
 */
export function serverClock(headers: Headers, now: number): number {
  const date = Date.parse(headers.get("date") ?? "");
  if (Number.isNaN(date)) return now;
  // clocks in step: the Date (cut to the second) is 0–1 s plus the latency before ours
  const ahead = date - now;
  return ahead > 1000 || ahead < -3000 ? date + 500 : now;
}

/** A signal that aborts when either does (`undefined` when neither is given). */
export function eitherSignal(a?: AbortSignal, b?: AbortSignal): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : a ?? b;
}

/** Default sleep: a timer that rejects when `signal` aborts. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
