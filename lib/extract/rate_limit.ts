/**
 * Client-side pacing of requests to GitLab: a configured `max_requests_per_minute`, GitLab's
 * known per-endpoint limits (invisible in its headers), its `RateLimit-Remaining` /
 * `RateLimit-Reset` / `RateLimit-Limit` headers, and a pause for everyone after a 429.
 *
 * Each request reserves a start time at once (no polling loop), so concurrent requests are
 * spread out rather than woken together.
 *
 * @module
 */

import { defaultSleep } from "./retry.ts";

/** A limit GitLab applies to some endpoints, per user. */
export interface EndpointLimit {
  /** Shown in docs and traces, e.g. `GET /groups`. */
  name: string;
  /** Matched against the request path after `/api/v4` (no query). */
  pattern: RegExp;
  /** Requests allowed per period. */
  requests: number;
  periodMs: number;
}

const MINUTE = 60_000;
const ID = "[^/]+";

/**
 * One limit: `requests` per `minutes` on the paths of `name` (or of `path`), where `:id` is one
 * path segment.
 */
function limit(name: string, requests: number, minutes = 1, path?: string): EndpointLimit {
  const source = (path ?? name.replace(/^GET /, "")).replaceAll(":id", ID);
  return { name, pattern: RegExp(`^${source}/?$`), requests, periodMs: minutes * MINUTE };
}

/** The limits GitLab.com and self-managed instances share (rate_limit_on_*_api.md). */
const SHARED_LIMITS: readonly EndpointLimit[] = [
  limit("GET /projects", 2000, 10),
  limit("GET /projects/:id", 400),
  limit("GET /groups/:id", 400),
  limit("GET /groups/:id/projects", 600),
  limit("GET /users/:id/projects", 300),
];

/** GitLab.com's per-endpoint limits (reference/gitlab.md §2, rate_limits.md). */
export const GITLAB_COM_ENDPOINT_LIMITS: readonly EndpointLimit[] = [
  ...SHARED_LIMITS,
  limit("GET /groups", 50),
  limit("GET /users/:id", 300, 10),
  limit("GET /projects/:id/members/all", 200, 1, "/(projects|groups)/:id/members/all"),
];

/** Self-managed defaults of the Projects and Groups API limits (on unless an admin changed them). */
export const SELF_MANAGED_ENDPOINT_LIMITS: readonly EndpointLimit[] = [
  ...SHARED_LIMITS,
  limit("GET /groups", 200),
];

/**
 * The known per-endpoint limits for an API root: GitLab.com's on gitlab.com, else the
 * self-managed defaults.
 *
 * @example
 * ```ts
 * knownEndpointLimits("https://gitlab.com/api/v4").find((l) => l.name === "GET /groups")?.requests; // 50
 * ```
 */
export function knownEndpointLimits(baseUrl: string): readonly EndpointLimit[] {
  const host = new URL(baseUrl).hostname.toLowerCase();
  return host === "gitlab.com" || host === "www.gitlab.com"
    ? GITLAB_COM_ENDPOINT_LIMITS
    : SELF_MANAGED_ENDPOINT_LIMITS;
}

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests started per minute at most, evenly spaced. @default {undefined: no cap} */
  maxRequestsPerMinute?: number;
  /** Per-endpoint limits (sliding window per limit). @default {[]} */
  endpointLimits?: readonly EndpointLimit[];
  /** Longest single wait taken from headers (guards against clock skew). @default {300000} */
  maxWaitMs?: number;
  /** @default {Date.now} */
  now?: () => number;
  /** @default {a timer, cancelled by `signal`} */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default {undefined} */
  signal?: AbortSignal;
}

/** A reserved start; hand it back to {@linkcode RateLimiter.observe} with the response. */
export interface RateTicket {
  readonly seq: number;
}

/** Counters of the limiter. */
export interface RateLimiterStats {
  /** Requests that had to wait for their start time. */
  waits: number;
  /** Total time reserved for waiting, in ms. */
  waitedMs: number;
}

interface HeaderState {
  remaining: number;
  resetAt: number;
  seq: number;
}

/**
 * Paces request starts. `acquire()` before sending, `observe()` with the response headers,
 * `pause()` after a 429 so that every request waits.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ maxRequestsPerMinute: 600 });
 * const ticket = await limiter.acquire("/projects/1/issues");
 * const res = await fetch("https://gitlab.example.com/api/v4/projects/1/issues");
 * limiter.observe(ticket, res.headers);
 * ```
 */
export class RateLimiter {
  /** Counters, updated as requests are paced. */
  readonly stats: RateLimiterStats = { waits: 0, waitedMs: 0 };
  readonly #spacingMs: number;
  readonly #limits: { limit: EndpointLimit; starts: number[] }[];
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #signal?: AbortSignal;
  #seq = 0;
  #lastStart = -Infinity;
  #pausedUntil = 0;
  #header?: HeaderState;
  #headerSpacingMs = 0;

  constructor(options: RateLimiterOptions = {}) {
    const rpm = options.maxRequestsPerMinute;
    this.#spacingMs = rpm && rpm > 0 ? MINUTE / rpm : 0;
    this.#limits = (options.endpointLimits ?? []).map((limit) => ({ limit, starts: [] }));
    this.#maxWaitMs = options.maxWaitMs ?? 300_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#signal = options.signal;
  }

  /**
   * Reserves the earliest allowed start for a request to `path` (after the API root) and waits
   * until then. `ignorePause`: this request already waited out the pause it caused.
   */
  async acquire(path: string, options: { ignorePause?: boolean } = {}): Promise<RateTicket> {
    const now = this.#now();
    let at = Math.max(now, this.#lastStart + Math.max(this.#spacingMs, this.#headerSpacingMs));
    if (!options.ignorePause) at = Math.max(at, this.#pausedUntil);
    const header = this.#header;
    if (header && now < header.resetAt) {
      const budget = header.remaining - (this.#seq - header.seq);
      if (budget <= 0) {
        at = Math.max(at, header.resetAt);
      } else {
        at = Math.max(at, this.#lastStart + (header.resetAt - now) / budget);
      }
    }
    const matching = this.#limits.filter((l) => l.limit.pattern.test(path));
    for (const { limit, starts } of matching) {
      if (starts.length >= limit.requests) {
        at = Math.max(at, starts[starts.length - limit.requests] + limit.periodMs);
      }
    }
    at = Math.min(at, now + this.#maxWaitMs);
    this.#lastStart = Math.max(this.#lastStart, at);
    for (const { limit, starts } of matching) {
      starts.push(at);
      if (starts.length > limit.requests * 2) starts.splice(0, starts.length - limit.requests);
    }
    const ticket = { seq: ++this.#seq };
    if (at > now) {
      this.stats.waits++;
      this.stats.waitedMs += at - now;
      await this.#sleep(at - now, this.#signal);
    }
    return ticket;
  }

  /**
   * Learns from a response's `RateLimit-Remaining`, `RateLimit-Reset` (Unix seconds) and
   * `RateLimit-Limit` (per minute). Responses without them change nothing.
   */
  observe(ticket: RateTicket, headers: Headers): void {
    const remaining = Number(headers.get("ratelimit-remaining") ?? NaN);
    const reset = Number(headers.get("ratelimit-reset") ?? NaN);
    const limit = Number(headers.get("ratelimit-limit") ?? NaN);
    if (limit > 0) this.#headerSpacingMs = MINUTE / limit;
    if (!Number.isFinite(remaining) || !Number.isFinite(reset) || reset <= 0) return;
    const resetAt = reset * 1000;
    const current = this.#header;
    if (
      current === undefined || resetAt > current.resetAt ||
      (resetAt === current.resetAt && ticket.seq > current.seq)
    ) {
      this.#header = { remaining: Math.max(0, remaining), resetAt, seq: ticket.seq };
    }
  }

  /** Holds every request not yet started for `ms` (after a 429). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + Math.min(ms, this.#maxWaitMs));
  }
}
