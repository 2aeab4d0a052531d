/**
 * The HTTP client of extract: base URL joining, query building, auth sent only to the base
 * URL's origin, redirects followed by hand, retries with backoff and full jitter, and the body
 * read and parsed inside the retry loop (a retried page is yielded once).
 *
 * @module
 */

import type { AuthConfig, Json, ResponseAction } from "../catalog/types.ts";
import type { GitlabSourceConfig } from "../config/types.ts";
import { fetchFailure, fetchFailureCause, HttpError } from "../common/errors.ts";
import { mayHaveLossyNumber, parseJsonExact } from "../common/lossless_json.ts";
import { redact } from "../common/redact.ts";
import { type AuthParts, resolveAuth } from "./auth.ts";
import {
  backoffMs,
  defaultSleep,
  eitherSignal,
  isRetryableStatus,
  serverDelayMs,
} from "./retry.ts";
import { Semaphore } from "./pool.ts";
import { type EndpointLimit, knownEndpointLimits, RateLimiter } from "./rate_limit.ts";

export { parseRetryAfter } from "./retry.ts";

/** A value of a query parameter; `null`/`undefined` are left out, arrays repeat the key. */
export type QueryValue = Json | undefined;

/** One request of a request series (what paginators read and produce). */
export interface HttpRequest {
  /** Path relative to the base URL (a leading `/` too), or an absolute URL. */
  url: string;
  /** @default {"GET"} */
  method?: "GET" | "POST";
  /** Query parameters; they replace parameters of the same name already in `url`. */
  params?: Record<string, QueryValue>;
  /** JSON body (POST). */
  json?: Json;
  /** Extra headers (sent only to the base URL's origin). */
  headers?: Record<string, string>;
}

/** A response whose body was read and parsed. */
export interface HttpResponse {
  /** The request that produced it. */
  request: HttpRequest;
  /** Final URL (after redirects), without auth query parameters. */
  url: string;
  status: number;
  statusText: string;
  /** Response headers (case-insensitive), for paginators. */
  headers: Headers;
  /** Parsed JSON body; `null` when the body is empty. */
  body: Json;
  /** Body size in bytes. */
  bytes: number;
  /** The body as received (UTF-8): a page can be written out as it came, not re-serialized. */
  raw: Uint8Array;
  /** The body decoded. */
  text: string;
  /**
   * Whether the body went through the exact parser (it may hold integers beyond 2^53 or
   * integral float literals, kept as wrapper objects); false when plain `JSON.parse` gave it.
   */
  exact: boolean;
}

/**
 * Whether a 404 body names a missing thing (`{"message":"404 Project Not Found"}`), which
 * GitLab answers for a route it has; its unknown routes answer `{"error":"404 Not Found"}`,
 * and what is not GitLab (a wrong base_url) answers an HTML page or nothing.
 */
function isMissingThing(body: string): boolean {
  try {
    const json = JSON.parse(body);
    const message = json?.message;
    return typeof message === "string" || (typeof message === "object" && message !== null);
  } catch {
    return false;
  }
}

/** What a 404 of an unknown route adds to its message. */
const NO_ROUTE_HINT = "; this is not an API route of this GitLab: check sources.gitlab.base_url " +
  "(e.g. https://gitlab.example.com/api/v4), or the endpoint is newer than this GitLab";

/** Counters of a client's work. */
export interface HttpStats {
  /** HTTP exchanges, each redirect hop and each retry included. */
  requests: number;
  /** Attempts repeated after a retryable failure. */
  retries: number;
  /** Response body bytes read. */
  bytes: number;
}

/** Options of {@linkcode HttpClient}. */
export interface HttpClientOptions {
  /** API root, e.g. `https://gitlab.example.com/gitlab/api/v4`. */
  baseUrl: string;
  /** The catalog's `client.auth`. @default {undefined} */
  auth?: AuthConfig;
  /** Secrets from the config (`api_key`, `job_token`). @default {{}} */
  source?: Pick<GitlabSourceConfig, "api_key" | "job_token">;
  /**
   * Called once per other origin a response came from (a `Link` or redirect of GitLab's led
   * there; no token is sent to it). @default {undefined}
   */
  onWarning?: (message: string) => void;
  /** The catalog's `client.headers` (sent only to the base URL's origin). @default {{}} */
  headers?: Record<string, string>;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Waits between attempts. @default {a timer, cancelled by `signal`} */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random numbers in [0, 1) for jitter. @default {Math.random} */
  random?: () => number;
  /** Clock in ms, for `Retry-After` dates. @default {Date.now} */
  now?: () => number;
  /** Attempts per request, the first included. @default {5} */
  maxAttempts?: number;
  /** Backoff base: attempt n waits random() × min(max, base × 2^(n-1)). @default {1000} */
  backoffBaseMs?: number;
  /** @default {60000} */
  backoffMaxMs?: number;
  /** Longest wait honoured from `Retry-After`. @default {300000} */
  maxRetryAfterMs?: number;
  /** Per-attempt timeout (connect, headers and body). @default {60000} */
  timeoutMs?: number;
  /** @default {5} */
  maxRedirects?: number;
  /** Cancels everything. @default {undefined} */
  signal?: AbortSignal;
  /** Requests in flight at most (across every caller of this client). @default {16} */
  maxInFlight?: number;
  /** `[sources.gitlab] max_requests_per_minute`: request starts evenly spaced. @default {undefined} */
  maxRequestsPerMinute?: number;
  /** Per-endpoint limits to pace on. @default {knownEndpointLimits(baseUrl)} */
  endpointLimits?: readonly EndpointLimit[];
}

/** What a request is for (names the resource in errors; response actions to honour). */
export interface RequestContext {
  /** Resource name for messages. */
  resource?: string;
  /** dlt `response_actions`; a matching `ignore` makes `request` return `undefined`. */
  responseActions?: ResponseAction[];
  /** Incremented per HTTP exchange of this request (redirect hops and retries included). */
  stats?: { requests: number };
  /** Ends this request (a page asked for ahead that is no longer wanted): `request` throws its reason. */
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TOKEN_PARAMS = ["private_token", "job_token", "access_token"];

/** Joins a path to the base URL as dlt does: the base URL's sub-path is kept. */
export function joinUrl(baseUrl: string, path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  // a query in base_url (`?private_token=…`) goes after the path, not before it
  const cut = baseUrl.search(/[?#]/);
  const root = cut < 0 ? baseUrl : baseUrl.slice(0, cut);
  const query = cut < 0 ? "" : baseUrl.slice(cut).replace(/#.*$/s, "").replace(/^\?/, "");
  const joined = path === "" ? root : root.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "");
  if (query === "") return joined;
  return joined + (joined.includes("?") ? "&" : "?") + query;
}

function appendParam(search: URLSearchParams, key: string, value: QueryValue): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const v of value) appendParam(search, key, v);
  } else if (typeof value === "object") {
    search.append(key, JSON.stringify(value));
  } else {
    search.append(key, String(value));
  }
}

class RetryableFailure {
  constructor(readonly message: string, readonly status: number, readonly delayMs?: number) {}
}

/** How long 429s without any hint are retried (GitLab's longest such window is 10 minutes). */
const SILENT_429_PATIENCE_MS = 11 * 60_000;

/**
 * Sends requests to GitLab with auth, retries, redirects and stats.
 *
 * @example
 * ```ts
 * const client = new HttpClient({ baseUrl: "https://gitlab.example.com/api/v4" });
 * const res = await client.request({ url: "projects", params: { membership: true } });
 * console.log(res?.body, client.stats.requests);
 * ```
 */
export class HttpClient {
  /** Counters, updated as requests run. */
  readonly stats: HttpStats = { requests: 0, retries: 0, bytes: 0 };
  /** The API root. */
  readonly baseUrl: string;
  readonly #origin: string;
  readonly #auth: AuthParts;
  /** The credential in use: `#auth`'s, or a token in base_url's query. */
  readonly #authKind: AuthParts["kind"];
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #maxAttempts: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #timeoutMs: number;
  readonly #maxRedirects: number;
  readonly #signal?: AbortSignal;
  readonly #slots: Semaphore;
  readonly #apiPath: string;
  /** Paces request starts (headers, configured and per-endpoint limits, 429 pauses). */
  readonly limiter: RateLimiter;
  readonly #onWarning?: (message: string) => void;
  /** Other origins a response came from, warned about once each. */
  readonly #foreign = new Set<string>();

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl;
    this.#origin = new URL(options.baseUrl).origin;
    this.#auth = resolveAuth(options.auth, options.source);
    // a token in base_url's query (`?private_token=…`, `?job_token=…`) is sent as it stands
    const query = new URL(options.baseUrl).searchParams;
    this.#authKind = this.#auth.kind !== "none"
      ? this.#auth.kind
      : query.has("job_token")
      ? "job_token"
      : TOKEN_PARAMS.some((k) => query.has(k))
      ? "api_key"
      : "none";
    this.#headers = options.headers ?? {};
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseMs = options.backoffBaseMs ?? 1000;
    this.#maxMs = options.backoffMaxMs ?? 60_000;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 300_000;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#maxRedirects = options.maxRedirects ?? 5;
    this.#signal = options.signal;
    this.#onWarning = options.onWarning;
    this.#slots = new Semaphore(Math.max(1, options.maxInFlight ?? 16));
    this.#apiPath = new URL(options.baseUrl).pathname.replace(/\/+$/, "");
    this.limiter = new RateLimiter({
      maxRequestsPerMinute: options.maxRequestsPerMinute,
      endpointLimits: options.endpointLimits ?? knownEndpointLimits(options.baseUrl),
      maxWaitMs: this.#maxRetryAfterMs,
      now: this.#now,
      sleep: this.#sleep,
      signal: this.#signal,
    });
  }

  /** The credential in use (`api_key`, `job_token`, `none`, …). */
  get authKind(): AuthParts["kind"] {
    return this.#authKind;
  }

  /**
   * Whether `request` could start now with budget to spare (see {@linkcode RateLimiter.hasSpare}):
   * a page that may not exist is asked for only then.
   */
  hasSpare(request: HttpRequest): boolean {
    return this.limiter.hasSpare(this.#pathOf(this.url(request)));
  }

  /** The absolute URL of a request, query parameters applied, without auth. */
  url(request: HttpRequest): string {
    const url = new URL(joinUrl(this.baseUrl, request.url));
    const params = Object.entries(request.params ?? {});
    if (params.length > 0) {
      // edited apart and set once: each edit of `url.searchParams` re-parses the whole URL
      const search = new URLSearchParams(url.search);
      for (const [key] of params) search.delete(key);
      for (const [key, value] of params) appendParam(search, key, value);
      url.search = search.toString();
    }
    return this.#stripAuthQuery(url.href);
  }

  /**
   * Sends one request and returns its parsed response, retrying transient failures (5xx, 429,
   * connection errors, timeouts, unparsable bodies). Returns `undefined` when a response action
   * says to ignore the response. Throws {@linkcode HttpError} otherwise.
   */
  async request(
    request: HttpRequest,
    context: RequestContext = {},
  ): Promise<HttpResponse | undefined> {
    const url = this.url(request);
    const method = request.method ?? "GET";
    const what = context.resource ? `resource "${context.resource}"` : "GitLab";
    let paused = false;
    /** This request, to the rate limiter: its tries share one place after a 429. */
    const owner = {};
    const signal = eitherSignal(this.#signal, context.signal);
    try {
      for (let attempt = 1;; attempt++) {
        signal?.throwIfAborted();
        let failure: RetryableFailure;
        try {
          const response = await this.#attempt(request, url, method, what, context, {
            afterPause: paused,
            owner,
          });
          if (response && !this.#sameOrigin(response.url)) this.#warnForeign(response.url, what);
          return response;
        } catch (e) {
          if (!(e instanceof RetryableFailure)) throw e;
          failure = e;
        }
        const safeUrl = redact(url);
        // such a 429 ends with its window (a minute, or 10 for GET /projects): the limiter holds
        // every request and lets one try at a time, with the backoff, until then, however many
        // tries that takes (not giving up after a few quick ones)
        const silent429 = failure.status === 429 && failure.delayMs === undefined;
        const throttledMs = silent429 ? this.limiter.throttle(owner, (n) => this.#backoff(n)) : 0;
        if (attempt >= this.#maxAttempts && !(silent429 && throttledMs < SILENT_429_PATIENCE_MS)) {
          const n = attempt;
          throw new HttpError(
            redact(
              `Cannot fetch ${what}: ${method} ${safeUrl} failed after ${n} attempt${
                n === 1 ? "" : "s"
              }: ${failure.message}${
                // no GitLab answered at all: the address is the first suspect
                failure.status === 0 && this.stats.bytes === 0
                  ? `; is sources.gitlab.base_url (${this.baseUrl}) the address of your GitLab?`
                  : ""}`,
            ),
            failure.status,
            safeUrl,
            { retryable: true },
          );
        }
        this.stats.retries++;
        paused = false;
        if (silent429) continue; // the limiter holds the next try
        // any other failure: if this request was let through first after a hold, another goes
        // in its place now (it must not keep the others waiting while it backs off for a slot)
        this.limiter.settle(owner);
        const delay = failure.delayMs ?? this.#backoff(attempt);
        // A 429 holds every request of this client, not only this one.
        paused = failure.status === 429;
        if (paused) this.limiter.pause(delay);
        await this.#sleep(delay, signal);
      }
    } finally {
      // done, one way or another: if it was the try let through after a hold, another goes
      this.limiter.settle(owner);
    }
  }

  /** The backoff before the `n`-th retry (full jitter). */
  #backoff(n: number): number {
    return backoffMs(n, { baseMs: this.#baseMs, maxMs: this.#maxMs, random: this.#random });
  }

  async #attempt(
    request: HttpRequest,
    url: string,
    method: "GET" | "POST",
    what: string,
    context: RequestContext,
    tries: { afterPause: boolean; owner: object },
  ): Promise<HttpResponse | undefined> {
    await this.#slots.acquire();
    try {
      context.signal?.throwIfAborted();
      return await this.#attemptInSlot(request, url, method, what, context, tries);
    } finally {
      this.#slots.release();
    }
  }

  async #attemptInSlot(
    request: HttpRequest,
    url: string,
    method: "GET" | "POST",
    what: string,
    context: RequestContext,
    tries: { afterPause: boolean; owner: object },
  ): Promise<HttpResponse | undefined> {
    let current = url;
    let currentMethod: string = method;
    let body = request.json === undefined ? undefined : JSON.stringify(request.json);
    let response: Response;
    let text: string;
    let bytes: Uint8Array;
    try {
      for (let hop = 0;; hop++) {
        const ticket = await this.limiter.acquire(this.#pathOf(current), {
          ignorePause: tries.afterPause && hop === 0,
          signal: context.signal,
          owner: tries.owner,
        });
        this.stats.requests++;
        if (context.stats) context.stats.requests++;
        // the timeout starts when the request is sent: a wait for the rate limit is not in it
        const signals = [AbortSignal.timeout(this.#timeoutMs)];
        if (this.#signal) signals.push(this.#signal);
        if (context.signal) signals.push(context.signal);
        const signal = AbortSignal.any(signals);
        try {
          response = await this.#fetch(this.#authorizedUrl(current), {
            method: currentMethod,
            headers: this.#headersFor(current, request.headers, body !== undefined),
            body,
            redirect: "manual",
            signal,
          });
        } catch (e) {
          this.limiter.release(ticket);
          throw e;
        }
        this.limiter.observe(ticket, response.headers, response.status);
        const location = response.headers.get("location");
        if (!REDIRECTS.has(response.status) || location === null) break;
        await response.body?.cancel();
        if (hop >= this.#maxRedirects) {
          throw new HttpError(
            redact(`Cannot fetch ${what}: more than ${this.#maxRedirects} redirects from ${url}`),
            response.status,
            redact(url),
          );
        }
        current = this.#stripAuthQuery(new URL(location, current).href);
        if (response.status === 303 || (response.status <= 302 && currentMethod === "POST")) {
          currentMethod = "GET";
          body = undefined;
        }
      }
      bytes = new Uint8Array(await response.arrayBuffer());
      this.stats.bytes += bytes.length;
      text = new TextDecoder().decode(bytes);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (this.#signal?.aborted) throw this.#signal.reason;
      if (context.signal?.aborted) throw context.signal.reason;
      const name = e instanceof Error ? e.name : "";
      // Deno's "fetch failed" keeps the reason in its cause (without the URL, which may hold
      // a token in its query)
      const cause = fetchFailureCause(e);
      // not transient: retrying only repeats these
      const origin = new URL(current).origin;
      const fatal = (detail: string) =>
        new HttpError(redact(`Cannot fetch ${what}: ${detail}`), 0, redact(current));
      if (/invalid peer certificate|certificate/i.test(cause)) {
        throw fatal(
          `the TLS certificate of ${origin} is not trusted (${cause}). ` +
            "For a GitLab with a private CA, point DENO_CERT at the CA's PEM file, or set " +
            "DENO_TLS_CA_STORE=system to trust the system's store",
        );
      }
      if (/InvalidContentType|corrupt message/i.test(cause) && current.startsWith("https:")) {
        // an https URL on a plain HTTP port
        throw fatal(
          `${origin} answered in plain HTTP, not TLS (${cause})${
            current === url
              ? `: if that is your GitLab's address, set sources.gitlab.base_url to ${
                origin.replace(/^https:/, "http:")
              }/…, else check its port`
              : `, where a redirect from ${new URL(url).origin} led`
          }`,
        );
      }
      const reason = e instanceof Error ? e.message : String(e);
      if (/are blocked/.test(reason)) {
        // a port fetch refuses
        throw fatal(`${reason}: give GitLab's address with another port`);
      }
      const message = name === "TimeoutError" || name === "AbortError"
        ? `timed out after ${this.#timeoutMs / 1000} s`
        : `connection error (${fetchFailure(e)})`;
      throw new RetryableFailure(message, 0);
    }
    const status = response.status;
    const statusLine = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ""}`;
    for (const action of context.responseActions ?? []) {
      if (action.action !== "ignore") continue;
      if (action.status_code !== undefined && action.status_code !== status) continue;
      if (action.content !== undefined && !text.includes(action.content)) continue;
      return undefined;
    }
    if (isRetryableStatus(status)) {
      const delay = serverDelayMs(status, response.headers, this.#now());
      if (delay !== undefined && delay > this.#maxRetryAfterMs) {
        // retrying before the server's time only earns more 429s: say so and stop
        const safe = redact(current);
        throw new HttpError(
          redact(
            `Cannot fetch ${what}: GitLab answered ${statusLine} for ${currentMethod} ${safe} and asks to wait ${
              Math.ceil(delay / 1000)
            } s before trying again, longer than the ${
              Math.round(this.#maxRetryAfterMs / 1000)
            } s gitlab-pg waits at most; run again after that`,
          ),
          status,
          safe,
          { retryable: true },
        );
      }
      throw new RetryableFailure(statusLine, status, delay);
    }
    const safeUrl = redact(current);
    if (status === 401) {
      throw new HttpError(this.#unauthorizedMessage(what, currentMethod, safeUrl), 401, safeUrl);
    }
    if (status >= 400) {
      // masked before it is cut: a token the body echoes must not leak its first half
      const detail = redact(text.trim()).slice(0, 200);
      throw new HttpError(
        redact(
          `Cannot fetch ${what}: GitLab answered ${statusLine} for ${currentMethod} ${safeUrl}${
            detail ? ` (${detail})` : ""
          }${status === 404 && !isMissingThing(text) ? NO_ROUTE_HINT : ""}${
            this.#deniedHint(status, current)
          }`,
        ),
        status,
        safeUrl,
      );
    }
    let json: Json = null;
    let exact = false;
    if (text.trim() !== "") {
      try {
        // big ints and 1.0 kept exact (parseJsonLossless, telling which parser it used)
        exact = mayHaveLossyNumber(text);
        json = (exact ? parseJsonExact(text) : JSON.parse(text)) as Json;
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        // an HTML page (a login page, a proxy's) says more by its type and where it came from
        const type = response.headers.get("content-type")?.split(";")[0].trim();
        const from = current !== url ? `, from ${redact(current)} after a redirect` : "";
        throw new RetryableFailure(
          `cannot parse the body as JSON (${bytes.length} bytes${
            type && type !== "application/json" ? ` of ${type}` : ""
          }${from}): ${why}${
            type === "text/html" ? " (a login page, or a proxy's, instead of GitLab's API?)" : ""
          }`,
          status,
        );
      }
    }
    return {
      request,
      url: current,
      status,
      statusText: response.statusText,
      headers: response.headers,
      body: json,
      bytes: bytes.length,
      raw: bytes,
      text,
      exact,
    };
  }

  /**
   * Warns, once per origin, that data came from outside base_url: without the token only
   * public data comes back, so a GitLab whose external_url differs from base_url would load
   * an incomplete dataset without a word.
   */
  #warnForeign(url: string, what: string): void {
    const origin = new URL(url).origin;
    if (this.#foreign.has(origin)) return;
    this.#foreign.add(origin);
    this.#onWarning?.(redact(
      `Read ${what} from ${origin} (GitLab's next-page link or redirect led there), outside ` +
        `base_url ${this.baseUrl}: no token is sent to another origin, so only public data ` +
        `comes from there; if that is your GitLab's address (its external_url), set ` +
        `sources.gitlab.base_url to it`,
    ));
  }

  /**
   * Why a 403 or 404 may not mean what it says: the request went outside base_url without the
   * token (GitLab answers 404 for what is not public), or a CI job token, which GitLab lets
   * reach only some endpoints and answers 404 (or 401) elsewhere.
   */
  #deniedHint(status: number, url: string): string {
    if (status !== 403 && status !== 404) return "";
    if (!this.#sameOrigin(url) && this.authKind !== "none") {
      return `; the URL is outside base_url ${
        redact(this.baseUrl)
      } (GitLab's next-page link or redirect led there), so no token was sent, and GitLab answers ${status} for what is not public: set sources.gitlab.base_url to the address GitLab links to (its external_url)`;
    }
    if (this.authKind === "job_token") {
      return "; a CI job token reaches only some endpoints (not the project record, issues, " +
        "pipelines, users, groups or events): set sources.gitlab.api_key / " +
        "SOURCES__GITLAB__API_KEY, or run only resources a job token can read";
    }
    return "";
  }

  #unauthorizedMessage(what: string, method: string, safeUrl: string): string {
    const where = `(${what}, ${method} ${safeUrl})`;
    if (new URL(safeUrl).origin !== this.#origin) {
      return `GitLab rejected the request (401 Unauthorized) ${where}: the URL is outside base_url ${
        redact(this.baseUrl)
      }, so no token was sent; set sources.gitlab.base_url to the URL GitLab links to`;
    }
    if (this.authKind === "none") {
      return `GitLab requires a token (401 Unauthorized) ${where}: set sources.gitlab.api_key / SOURCES__GITLAB__API_KEY`;
    }
    if (this.authKind === "job_token") {
      return `GitLab rejected the CI job token (401 Unauthorized) ${where}: a job token reaches only some endpoints; set sources.gitlab.api_key / SOURCES__GITLAB__API_KEY`;
    }
    return `GitLab rejected the token (401 Unauthorized): check sources.gitlab.api_key / SOURCES__GITLAB__API_KEY ${where}`;
  }

  /** The path after the API root, for per-endpoint limits. */
  #pathOf(url: string): string {
    const path = new URL(url).pathname;
    return path.startsWith(this.#apiPath) ? path.slice(this.#apiPath.length) : path;
  }

  /**
   * Whether a response from `url` was read without the configured credential: it came from
   * another origin than base_url's (a next-page link or redirect led there), where only
   * public data is shown.
   */
  readWithoutToken(url: string): boolean {
    return this.authKind !== "none" && !this.#sameOrigin(url);
  }

  #sameOrigin(url: string): boolean {
    return new URL(url).origin === this.#origin;
  }

  #authorizedUrl(url: string): string {
    if (!this.#sameOrigin(url)) {
      // Never carry a token to another origin, even one a server echoed into a URL.
      const u = new URL(url);
      for (const k of [...TOKEN_PARAMS, ...Object.keys(this.#auth.query)]) u.searchParams.delete(k);
      return u.href;
    }
    if (Object.keys(this.#auth.query).length === 0) return url;
    const u = new URL(url);
    for (const [k, v] of Object.entries(this.#auth.query)) u.searchParams.set(k, v);
    return u.href;
  }

  /** Removes auth query parameters a server may have echoed into a redirect or link. */
  #stripAuthQuery(url: string): string {
    const names = Object.keys(this.#auth.query);
    if (names.length === 0) return url;
    const u = new URL(url);
    for (const k of names) u.searchParams.delete(k);
    return u.href;
  }

  #headersFor(url: string, extra: Record<string, string> | undefined, hasBody: boolean): Headers {
    const h = new Headers({ accept: "application/json" });
    if (hasBody) h.set("content-type", "application/json");
    if (this.#sameOrigin(url)) {
      for (const [k, v] of Object.entries(this.#headers)) h.set(k, v);
      for (const [k, v] of Object.entries(extra ?? {})) h.set(k, v);
      for (const [k, v] of Object.entries(this.#auth.headers)) h.set(k, v);
    }
    return h;
  }
}
