/**
 * A fixed-window request limiter with GitLab's (Rack::Attack's) headers.
 *
 * @module
 */

/** Rate limiting of the fake GitLab. */
export interface RateLimitOptions {
  /** Requests allowed per window and per credential (per minute with the default window). */
  requestsPerMinute: number;
  /**
   * Window length. Shorten it in tests so `Retry-After` stays small; `RateLimit-Limit` is
   * then normalised to a per-minute figure, as GitLab does.
   * @default {60000}
   */
  windowMs?: number;
  /** Send `RateLimit-Limit/Name/Observed/Remaining/Reset` on every response. @default {true} */
  sendHeaders?: boolean;
  /** Send `Retry-After` and `RateLimit-ResetTime` on a 429. @default {true} */
  retryAfter?: boolean;
  /** `RateLimit-Name`. @default {"throttle_authenticated_api"} */
  name?: string;
  /**
   * Where the windows are aligned, in ms since the epoch (windows start at `origin + k ×
   * windowMs`): a test that needs a window's end far away sets it to its own start. @default {0}
   */
  origin?: number;
}

/** The verdict for one request. */
export interface RateVerdict {
  limited: boolean;
  headers: [string, string][];
}

/** Counts requests per key in aligned windows. */
export class RateLimiter {
  #options: Required<RateLimitOptions>;
  #windows = new Map<string, { start: number; count: number }>();

  constructor(options: RateLimitOptions) {
    this.#options = {
      windowMs: 60_000,
      sendHeaders: true,
      retryAfter: true,
      name: "throttle_authenticated_api",
      origin: 0,
      ...options,
    };
  }

  /** Counts a request of `key` at `nowMs` and says whether it is over the limit. */
  check(key: string, nowMs: number): RateVerdict {
    const { requestsPerMinute: limit, windowMs, sendHeaders, retryAfter, name, origin } =
      this.#options;
    const start = origin + Math.floor((nowMs - origin) / windowMs) * windowMs;
    let window = this.#windows.get(key);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    const limited = window.count > limit;
    const resetMs = start + windowMs;
    const headers: [string, string][] = [];
    if (sendHeaders) {
      headers.push(
        ["ratelimit-name", name],
        ["ratelimit-limit", String(Math.ceil((limit * 60_000) / windowMs))],
        ["ratelimit-observed", String(window.count)],
        ["ratelimit-remaining", String(Math.max(0, limit - window.count))],
        ["ratelimit-reset", String(Math.ceil(resetMs / 1000))],
      );
    }
    if (limited && retryAfter) {
      headers.push(
        ["ratelimit-resettime", new Date(resetMs).toUTCString()],
        ["retry-after", String(Math.max(1, Math.ceil((resetMs - nowMs) / 1000)))],
      );
    }
    return { limited, headers };
  }
}
