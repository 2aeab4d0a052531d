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

import { defaultSleep, eitherSignal, serverClock } from "./retry.ts";

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
  /** The request it is for (its tries share it); the ticket itself when none was given. */
  readonly owner: object;
}

/** Counters of the limiter. */
export interface RateLimiterStats {
  /** Requests that had to wait for their start time. */
  waits: number;
  /** Total time reserved for waiting, in ms. */
  waitedMs: number;
}

interface HeaderState {
  /** `RateLimit-Remaining` of the response to `seq`. */
  remaining: number;
  /** `RateLimit-Reset` in ms on our clock: when the server's window ends. */
  resetAt: number;
  /** `RateLimit-Reset` as sent (Unix seconds on the server's clock): tells windows apart. */
  reset: number;
  /** The ticket whose response told this. */
  seq: number;
  /** Requests started before `seq` still in flight then: the server may count them later. */
  older: number;
  /** `RateLimit-Observed` + `RateLimit-Remaining`: the window's size, when sent. */
  windowSize?: number;
}

/** A request start reserved after the response the header state comes from. */
interface Reservation {
  seq: number;
  at: number;
}

/**
 * Margin after `RateLimit-Reset` before a new window's budget is used (clock skew between
 * client and server; the header is in whole seconds): 250 ms, or 5% of a shorter window.
 */
const RESET_MARGIN_MS = 250;
/**
 * Requests started this close before a reset may reach the server after it and count in the
 * next window, whose budget is reduced by them: 1 s, or 10% of a shorter window.
 */
const CROSSING_MS = 1000;
/** Requests a reported budget keeps at least for needed ones (see `RateLimiter.hasSpare`). */
const SPARE_MIN = 10;

/** A hold after 429s without a hint: who goes first (see `RateLimiter.throttle`), what the others wait on. */
interface Hold {
  owner?: object;
  answered: Promise<void>;
  wake: () => void;
}

/** A hold with nobody let through yet. */
function newHold(): Hold {
  let wake!: () => void;
  const answered = new Promise<void>((resolve) => (wake = resolve));
  return { answered, wake };
}

/**
 * Paces request starts. `acquire()` before sending, `observe()` with the response headers (or
 * `release()` when there is no response), `pause()` after a 429 so that every request waits.
 *
 * Against GitLab's fixed windows (`RateLimit-Remaining` / `RateLimit-Reset`) the budget the
 * server reports is used at once, as fast as the requests go, and the client waits for the
 * reset only when it is spent: that is what keeps a run on the rate-limit floor. Requests in
 * flight are subtracted from the budget (the server counts them on arrival, possibly after
 * the response that reported it), and so are starts close to a reset for the next window.
 * Before any header, and in a new window whose size is unknown, starts are spaced evenly at
 * `RateLimit-Limit` per minute.
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
  /** Counts header state changes and pauses, so a waiting request can tell it should decide again. */
  #headerUpdates = 0;
  /** Starts reserved after the header's response, in order. */
  #reservations: Reservation[] = [];
  /** Tickets handed out (waiting or sent) and not yet answered or released. */
  readonly #inFlight = new Set<number>();
  /**
   * After a 429 that told no wait: the request let through first once the pause ends (its
   * owner, see `acquire`), and what the others wait on until it gets an answer other than 429.
   */
  #probe?: Hold;
  /** 429s without a hint in a row (the probes' own) and since when. */
  #streak = 0;
  #throttledSince = 0;

  constructor(options: RateLimiterOptions = {}) {
    const rpm = options.maxRequestsPerMinute;
    this.#spacingMs = rpm && rpm > 0 ? MINUTE / rpm : 0;
    this.#limits = (options.endpointLimits ?? []).map((limit) => ({ limit, starts: [] }));
    this.#maxWaitMs = options.maxWaitMs ?? 300_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#signal = options.signal;
  }

  /** The earliest start at or after `at` that the server's reported budget allows. */
  #headerStart(at: number): number {
    const h = this.#header;
    if (!h) return Math.max(at, this.#lastStart + this.#headerSpacingMs);
    // the window's length follows from its size and RateLimit-Limit (per minute)
    const periodMs = h.windowSize !== undefined && this.#headerSpacingMs > 0
      ? h.windowSize * this.#headerSpacingMs
      : MINUTE;
    const crossingMs = Math.min(CROSSING_MS, periodMs / 10);
    let beforeReset = 0;
    let nearOrAfterReset = 0;
    for (const r of this.#reservations) {
      if (r.at < h.resetAt) beforeReset++;
      if (r.at >= h.resetAt - crossingMs) nearOrAfterReset++;
    }
    if (at < h.resetAt && h.remaining - h.older - beforeReset > 0) return at;
    // this window is spent (or over): the next one, with its size when known
    const next = Math.max(at, h.resetAt + Math.min(RESET_MARGIN_MS, periodMs / 20));
    if (h.windowSize !== undefined && h.windowSize - nearOrAfterReset > 0) return next;
    return Math.max(next, this.#lastStart + this.#headerSpacingMs);
  }

  /**
   * Reserves the earliest allowed start for a request to `path` (after the API root) and waits
   * until then. `ignorePause`: this request already waited out the pause it caused.
   */
  async acquire(
    path: string,
    options: { ignorePause?: boolean; signal?: AbortSignal; owner?: object } = {},
  ): Promise<RateTicket> {
    const seq = ++this.#seq;
    const ticket: RateTicket = { seq, owner: options.owner ?? { seq } };
    this.#inFlight.add(ticket.seq);
    const matching = this.#limits.filter((l) => l.limit.pattern.test(path));
    const signal = eitherSignal(this.#signal, options.signal);
    let waited = false;
    /** This request's place in the configured spacing, kept when it decides again. */
    let spaced: number | undefined;
    for (;;) {
      const now = this.#now();
      // deciding again, a request keeps its place: spacing it after the last reservation
      // (its own stale one among them) would push every waiting request later at each header
      spaced ??= this.#lastStart + this.#spacingMs;
      let at = Math.max(now, spaced);
      if (!options.ignorePause) at = Math.max(at, this.#pausedUntil);
      // what the server reports is waited for at most maxWaitMs (a reset far off, a bad clock);
      // our own pacing (configured spacing, endpoint limits) is never cut short: capping it made
      // every request further than that away start at the same instant
      at = Math.max(at, Math.min(this.#headerStart(at), now + this.#maxWaitMs));
      for (const { limit, starts } of matching) {
        if (starts.length >= limit.requests) {
          at = Math.max(at, starts[starts.length - limit.requests] + limit.periodMs);
        }
      }
      this.#lastStart = Math.max(this.#lastStart, at);
      const reservation = { seq: ticket.seq, at };
      this.#reservations.push(reservation);
      // a server that stops sending headers must not make this grow without end
      if (this.#reservations.length > 100_000) this.#reservations.splice(0, 50_000);
      if (at <= now) {
        const probe = this.#probeToWaitFor(ticket);
        if (!probe) {
          this.#commit(matching, at);
          return ticket;
        }
        this.#reservations = this.#reservations.filter((r) => r !== reservation);
        if (!waited) this.stats.waits++;
        waited = true;
        await this.#waitFor(probe, ticket, signal);
        continue;
      }
      const seen = this.#headerUpdates;
      if (!waited) this.stats.waits++;
      waited = true;
      this.stats.waitedMs += at - now;
      try {
        await this.#sleep(at - now, signal);
      } catch (e) {
        // given up while waiting: its place goes to the others
        this.#reservations = this.#reservations.filter((r) => r !== reservation);
        this.#inFlight.delete(ticket.seq);
        throw e;
      }
      if (this.#headerUpdates === seen && !this.#probeToWaitFor(ticket)) {
        this.#commit(matching, at);
        return ticket;
      }
      // the server told more while this waited (a new window, a spent budget): decide again
      this.#reservations = this.#reservations.filter((r) => r !== reservation);
    }
  }

  /**
   * After a 429 without a hint, what a request about to start must wait for: the answer of the
   * request that went first (undefined when none is out: then this one goes first).
   */
  #probeToWaitFor(ticket: RateTicket): Promise<void> | undefined {
    const probe = this.#probe;
    if (!probe) return undefined;
    probe.owner ??= ticket.owner;
    return probe.owner === ticket.owner ? undefined : probe.answered;
  }

  async #waitFor(answered: Promise<void>, ticket: RateTicket, signal?: AbortSignal) {
    if (!signal) return await answered;
    if (signal.aborted) {
      this.#inFlight.delete(ticket.seq);
      throw signal.reason;
    }
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([answered, aborted]);
    } catch (e) {
      this.#inFlight.delete(ticket.seq);
      throw e;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Wakes the requests waiting in the hold to decide again: with `next`, the hold goes on and
   * one of them goes first; without, it is over and all may go.
   */
  #wakeHold(next: Hold | undefined): void {
    this.#probe?.wake();
    this.#probe = next;
    if (!next) this.#streak = 0;
    this.#headerUpdates++;
  }

  /**
   * After a 429 without any hint (GitLab.com's Projects, Groups and Users throttles send none
   * until their window ends): every request not yet started waits `backoff(n)` (n: such 429s
   * in a row), then one goes first and the others only once it got an answer other than 429,
   * so a closed window costs one request per try instead of one per request in flight. A 429
   * of a request sent before the hold (not the one that went first) changes nothing.
   * `owner`: the request that got the 429 (as given to `acquire`). Returns how long such 429s
   * have been met in a row.
   */
  throttle(owner: object, backoff: (n: number) => number): number {
    const now = this.#now();
    if (!this.#probe || this.#probe.owner === owner) {
      if (this.#streak++ === 0) this.#throttledSince = now;
      this.pause(backoff(this.#streak));
      this.#wakeHold(newHold());
    }
    return now - this.#throttledSince;
  }

  /**
   * Whether a request to `path` could start now with budget to spare: no configured rate
   * (`max_requests_per_minute`), no pause after a 429, no known limit of the endpoint, and, when
   * the server reports its budget, more than a quarter of its window (and more than
   * 10) left after the requests already on their way. Requests that may turn
   * out useless (pages asked for before they are known to exist) go out only then, so they
   * never take the place of a needed one.
   */
  hasSpare(path: string): boolean {
    const now = this.#now();
    if (this.#spacingMs > 0 || now < this.#pausedUntil || this.#probe) return false;
    if (this.#limits.some((l) => l.limit.pattern.test(path))) return false;
    const h = this.#header;
    // before any budget is known, or in a new window of unknown size, starts are spaced
    if (!h) return this.#headerSpacingMs === 0;
    if (now >= h.resetAt) return h.windowSize !== undefined || this.#headerSpacingMs === 0;
    let reserved = 0;
    for (const r of this.#reservations) if (r.at < h.resetAt) reserved++;
    const left = h.remaining - h.older - reserved;
    return left > SPARE_MIN && left > (h.windowSize ?? 0) / 4;
  }

  /** Records a start for the endpoint limits it counts against. */
  #commit(matching: { limit: EndpointLimit; starts: number[] }[], at: number): void {
    for (const { limit, starts } of matching) {
      starts.push(at);
      if (starts.length > limit.requests * 2) starts.splice(0, starts.length - limit.requests);
    }
  }

  /**
   * Learns from a response's `RateLimit-Remaining`, `RateLimit-Reset` (Unix seconds),
   * `RateLimit-Observed` and `RateLimit-Limit` (per minute). Responses without them change
   * nothing but the count of requests in flight.
   */
  observe(ticket: RateTicket, headers: Headers, status = 200): void {
    this.#inFlight.delete(ticket.seq);
    // the request that went first after 429s without a hint got through: the others may go
    // (after a 429 it keeps its place until `throttle` sets the next wait, or `settle`)
    if (this.#probe?.owner === ticket.owner && status !== 429) this.#wakeHold(undefined);
    const remaining = Number(headers.get("ratelimit-remaining") ?? NaN);
    const reset = Number(headers.get("ratelimit-reset") ?? NaN);
    const limit = Number(headers.get("ratelimit-limit") ?? NaN);
    const observed = Number(headers.get("ratelimit-observed") ?? NaN);
    if (limit > 0) this.#headerSpacingMs = MINUTE / limit;
    if (!Number.isFinite(remaining) || !Number.isFinite(reset) || reset <= 0) return;
    // the reset is on the server's clock: moved onto ours when the two differ
    const now = this.#now();
    const resetAt = reset * 1000 - (serverClock(headers, now) - now);
    const current = this.#header;
    // windows compared as the server sent them: moved onto our clock through a Date header of
    // whole seconds, one window's reset would seem to move back and forth between responses
    if (
      current === undefined || reset > current.reset ||
      (reset === current.reset && ticket.seq > current.seq)
    ) {
      let older = 0;
      for (const seq of this.#inFlight) if (seq < ticket.seq) older++;
      this.#header = {
        remaining: Math.max(0, remaining),
        resetAt,
        reset,
        seq: ticket.seq,
        older,
        // observed + remaining is the window's size while some is left (a 429's observed
        // counts rejected requests too, so a spent window tells nothing)
        windowSize: Number.isFinite(observed) && observed >= 0 && remaining > 0
          ? observed + remaining
          : current?.windowSize,
      };
      this.#reservations = this.#reservations.filter((r) => r.seq > ticket.seq);
      this.#headerUpdates++;
    }
  }

  /** Forgets a request that got no response (network error, timeout). */
  release(ticket: RateTicket): void {
    this.#inFlight.delete(ticket.seq);
    this.settle(ticket.owner);
  }

  /**
   * When the request `owner` went first after 429s without a hint and has no answer other
   * than a 429 (it failed, gave up, or is done), another request goes in its place. Call it
   * when a request is done, whatever its outcome.
   */
  settle(owner: object): void {
    if (this.#probe?.owner === owner) this.#wakeHold(newHold());
  }

  /** Holds every request not yet started for `ms` (after a 429). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + Math.min(ms, this.#maxWaitMs));
    this.#headerUpdates++; // requests already waiting decide again, and wait out the pause too
  }
}
