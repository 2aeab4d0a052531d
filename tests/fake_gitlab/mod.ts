/**
 * A fake GitLab REST API v4 served on loopback by `Deno.serve`, for integration tests:
 * GitLab's pagination headers (offset and keyset), errors, authentication (tokens and CI job
 * token), rate limits, and injectable faults (error statuses, resets, truncated bodies,
 * delays), over a deterministic generated dataset.
 *
 * @example
 * ```ts
 * import { startFakeGitlab } from "./tests/fake_gitlab/mod.ts";
 *
 * await using gitlab = await startFakeGitlab({ size: { issuesPerProject: 250 } });
 * const res = await fetch(`${gitlab.url}/projects/1/issues?per_page=100`, {
 *   headers: { "PRIVATE-TOKEN": "glpat-test" },
 * });
 * res.headers.get("x-total"); // "250"
 * ```
 *
 * @module
 */

import {
  all,
  type FakeData,
  type FakeIssue,
  type FakeMergeRequest,
  type FakePipeline,
  type FakeSizes,
} from "./data.ts";
import { FakeClock } from "./clock.ts";
import { FaultQueue, type FaultRequest } from "./faults.ts";
import { faultReply, truncated, TruncatedByFault } from "./_fault_responses.ts";
import { authenticate, type JobTokenOptions, type TokenInfo } from "./_auth.ts";
import { Generator } from "./_generate.ts";
import { HttpError, type Reply, unauthorized } from "./_http.ts";
import { RateLimiter, type RateLimitOptions } from "./_rate_limit.ts";
import { checkJobAccess, RouteContext, Router } from "./_router.ts";
import { projectRoutes } from "./_routes_projects.ts";
import { issuableRoutes } from "./_routes_issuables.ts";
import { ciRoutes } from "./_routes_ci.ts";
import { repositoryRoutes } from "./_routes_repository.ts";
import { instanceRoutes } from "./_routes_instance.ts";
import { Store } from "./_store.ts";
import { TcpFront } from "./_tcp_front.ts";
import { Random } from "./_random.ts";

export * from "./data.ts";
export * from "./faults.ts";
export { FakeClock } from "./clock.ts";
export type { JobTokenOptions, TokenInfo } from "./_auth.ts";
export type { RateLimitOptions } from "./_rate_limit.ts";
export { all };

/** Options of {@linkcode startFakeGitlab}. */
export interface FakeGitlabOptions {
  /** Seed of the data generator: the same seed gives the same data. @default {1} */
  seed?: number;
  /** Sizes of the generated data (see {@linkcode DEFAULT_SIZES}). @default {DEFAULT_SIZES} */
  size?: Partial<FakeSizes>;
  /** Per-project sizes, by project id, e.g. `{ 1: { issuesPerProject: 10_001 } }`. @default {{}} */
  sizeOverrides?: Record<number, Partial<FakeSizes>>;
  /** Accepted personal access tokens. @default {{ "glpat-test": { user: 1, admin: true } }} */
  tokens?: Record<string, TokenInfo>;
  /** The CI job token (a string means project 1, user 1). @default {undefined} */
  jobToken?: string | JobTokenOptions;
  /** Path of the API root, e.g. `/gitlab/api/v4` for a sub-path install. @default {"/api/v4"} */
  prefix?: string;
  /** Latency added to every response. @default {0} */
  latencyMs?: number;
  /** Random extra latency, up to this many ms. @default {0} */
  jitterMs?: number;
  /** Rate limiting per credential. @default {undefined} (no limit) */
  rateLimit?: RateLimitOptions;
  /** Maximum offset of offset pagination on endpoints with keyset (0: none). @default {50000} */
  maxOffset?: number;
  /** Projects whose issues are disabled: 403 on issues and their notes. @default {[]} */
  projectsWithIssuesDisabled?: number[];
  /** Projects with an empty repository: 404 `Repository Not Found`. @default {[]} */
  projectsWithEmptyRepo?: number[];
  /** Projects with CI/CD disabled: 403 on pipelines and jobs. @default {[]} */
  projectsWithCiDisabled?: number[];
  /** The server clock's start; generated data lies before it. @default {"2025-06-01T12:00:00.000Z"} */
  now?: string | number | Date;
  /**
   * Origin and prefix used in `Link` headers instead of the server's own, e.g. to check a
   * client never sends its token to another origin. @default {undefined}
   */
  linkBase?: string;
  /**
   * Serve a repeated request (same method, path, query and credential) from a cache of its
   * reply, so the fake's own CPU (routing, sorting, serializing) is spent once per distinct
   * request: for benchmarks that run many loads of unchanging data on the same cores as the
   * client. Rate limits, latency and faults still apply; the mutation helpers and `setData`
   * empty the cache. @default {false}
   */
  cacheReplies?: boolean;
}

/** One request as the server received it. */
export interface RequestLogEntry {
  method: string;
  /** Raw (percent-encoded) path, prefix included. */
  path: string;
  /** The path after the prefix, or `null` outside it. */
  apiPath: string | null;
  /** Query parameters (the last value of repeated ones). */
  query: Record<string, string>;
  /** Request headers, lowercase names, token headers included as sent. */
  headers: Record<string, string>;
  /** Status sent; 0 when the connection was reset. */
  status: number;
  /** Real time of arrival, ms since the epoch. */
  at: number;
  /** The fault applied, if any. */
  fault?: string;
}

/** A running fake GitLab. */
export interface FakeGitlab extends AsyncDisposable {
  /** API root, e.g. `http://127.0.0.1:41234/api/v4`. */
  readonly url: string;
  /** Scheme, host and port, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** The generated dataset (mutable; call {@linkcode FakeGitlab.setData} for big changes). */
  readonly data: FakeData;
  /** Every request received, in order. */
  readonly requests: RequestLogEntry[];
  /** Faults to inject into the next matching requests. */
  readonly faults: FaultQueue;
  /** The server clock used by the mutation helpers. */
  readonly clock: FakeClock;
  /** Changes the data (in place, or by returning new data) and rebuilds the lookups. */
  setData(mutate: (data: FakeData) => FakeData | void): void;
  /** Moves the server clock forward. */
  advance(ms: number): void;
  /**
   * Patches issue `iid` of a project and sets its `updated_at` to the clock (always later
   * than the old value); the clock then moves on by 1 ms.
   */
  updateIssue(projectId: number, iid: number, patch?: Partial<FakeIssue>): FakeIssue;
  /** Adds an open issue (next iid, fresh id) created and updated at the clock. */
  addIssue(projectId: number, patch?: Partial<FakeIssue>): FakeIssue;
  /** Deletes an issue and its notes (GitLab leaves no tombstone). */
  deleteIssue(projectId: number, iid: number): void;
  /** Patches merge request `iid` and bumps its `updated_at` as {@linkcode updateIssue} does. */
  updateMergeRequest(
    projectId: number,
    iid: number,
    patch?: Partial<FakeMergeRequest>,
  ): FakeMergeRequest;
  /** Adds an open merge request created and updated at the clock. */
  addMergeRequest(projectId: number, patch?: Partial<FakeMergeRequest>): FakeMergeRequest;
  /** Deletes a merge request with its notes and commits. */
  deleteMergeRequest(projectId: number, iid: number): void;
  /** Patches a pipeline (by id, not iid) and bumps its `updated_at`. */
  updatePipeline(
    projectId: number,
    pipelineId: number,
    patch?: Partial<FakePipeline>,
  ): FakePipeline;
  /** Adds a pipeline (with `jobsPerPipeline` jobs) created and updated at the clock. */
  addPipeline(projectId: number, patch?: Partial<FakePipeline>): FakePipeline;
  /** Stops the server and closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_NOW = "2025-06-01T12:00:00.000Z";
function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * Starts a fake GitLab on `127.0.0.1` (random port). Close it with `await gitlab.close()` or
 * `await using`.
 *
 * @example
 * ```ts
 * await using gitlab = await startFakeGitlab({
 *   rateLimit: { requestsPerMinute: 5, windowMs: 1000 },
 *   projectsWithCiDisabled: [2],
 * });
 * gitlab.faults.push({ kind: "status", status: 502, match: /\/pipelines/ });
 * ```
 */
export async function startFakeGitlab(options: FakeGitlabOptions = {}): Promise<FakeGitlab> {
  const prefix = (options.prefix ?? "/api/v4").replace(/\/+$/, "");
  const front = new TcpFront("127.0.0.1");
  const origin = `http://127.0.0.1:${front.port}`;
  const apiRoot = `${origin}${prefix}`;
  const webRoot = `${origin}${prefix.replace(/\/api\/v4$/, "")}`;
  const clock = new FakeClock(options.now ?? DEFAULT_NOW);
  const generator = new Generator({
    seed: options.seed ?? 1,
    sizes: options.size ?? {},
    sizeOverrides: options.sizeOverrides ?? {},
    web: webRoot,
    api: apiRoot,
    nowMs: clock.now(),
    issuesDisabled: new Set(options.projectsWithIssuesDisabled ?? []),
    emptyRepo: new Set(options.projectsWithEmptyRepo ?? []),
    ciDisabled: new Set(options.projectsWithCiDisabled ?? []),
  });
  const store = new Store(generator.generate(), generator, clock);
  const tokens = options.tokens ?? { "glpat-test": { user: 1, admin: true } };
  const jobToken = typeof options.jobToken === "string"
    ? { token: options.jobToken }
    : options.jobToken;
  const limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : undefined;
  const router = new Router([
    ...projectRoutes,
    ...issuableRoutes,
    ...ciRoutes,
    ...repositoryRoutes,
    ...instanceRoutes,
  ]);
  const faults = new FaultQueue();
  const requests: RequestLogEntry[] = [];
  const jitter = new Random((options.seed ?? 1) ^ 0x5bd1e995);
  const linkBase = (options.linkBase ?? apiRoot).replace(/\/+$/, "");
  const maxOffset = options.maxOffset ?? 50_000;
  let requestId = 0;
  /**
   * Replies by request (`cacheReplies`): status, content type and body, the body kept encoded
   * (a cached reply is served without the fake's CPU for UTF-8 encoding it again).
   */
  const replies = new Map<
    string,
    { status: number; headers: [string, string][]; body: string | Uint8Array<ArrayBuffer> }
  >();
  const utf8 = new TextEncoder();

  function route(request: Request, url: URL, apiPath: string | null): Response {
    const common: Record<string, string> = {
      "cache-control": "max-age=0, private, must-revalidate",
      "vary": "Origin",
      "x-content-type-options": "nosniff",
      "x-frame-options": "SAMEORIGIN",
      "x-request-id": `fake-${++requestId}`,
      "x-runtime": "0.010000",
    };
    const credential = request.headers.get("private-token") ?? request.headers.get("job-token") ??
      request.headers.get("authorization") ?? url.searchParams.get("private_token") ??
      url.searchParams.get("access_token") ?? url.searchParams.get("job_token") ?? "anonymous";
    const rate = limiter?.check(credential, Date.now());
    const rateHeaders = rate?.headers ?? [];
    if (rate?.limited) {
      return new Response("Retry later\n", {
        status: 429,
        headers: [["content-type", "text/plain"], ...Object.entries(common), ...rateHeaders],
      });
    }
    const key = `${request.method} ${url.pathname}${url.search} ${credential}`;
    let cached = options.cacheReplies ? replies.get(key) : undefined;
    if (!cached) {
      let reply: Reply;
      try {
        reply = dispatch(request, url, apiPath);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        reply = { status: error.status, body: error.body, headers: error.headers };
      }
      const text = typeof reply.body === "string";
      const body = text ? reply.body as string : JSON.stringify(reply.body);
      cached = {
        status: reply.status,
        headers: [
          ["content-type", text ? "text/plain" : "application/json"],
          ...(reply.headers ?? []) as [string, string][],
        ],
        body: options.cacheReplies ? utf8.encode(body) : body,
      };
      if (options.cacheReplies) replies.set(key, cached);
    }
    const [contentType, ...rest] = cached.headers;
    const headers = new Headers([contentType, ...Object.entries(common), ...rateHeaders, ...rest]);
    return new Response(request.method === "HEAD" ? null : cached.body, {
      status: cached.status,
      headers,
    });
  }

  function dispatch(request: Request, url: URL, apiPath: string | null): Reply {
    const notFound = { status: 404, body: { error: "404 Not Found" } };
    if (apiPath === null) return notFound;
    let segments: string[];
    try {
      segments = apiPath.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return notFound;
    }
    if (segments.length && segments[segments.length - 1] === "") segments.pop();
    const matched = router.match(segments);
    if (!matched) return notFound;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return { status: 405, body: { error: "405 Not Allowed" } };
    }
    const principal = authenticate(request, url, tokens, jobToken, (id) => store.user(id));
    if (!principal) throw unauthorized();
    checkJobAccess(matched.route, principal);
    const ctx = new RouteContext({
      store,
      principal,
      params: url.searchParams,
      path: matched.path,
      page: { params: url.searchParams, linkBase, apiPath },
      maxOffset,
    });
    return matched.route.handler(ctx);
  }

  async function handle(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const apiPath = path === prefix
      ? ""
      : path.startsWith(`${prefix}/`)
      ? path.slice(prefix.length)
      : null;
    const entry: RequestLogEntry = {
      method: request.method,
      path,
      apiPath,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      status: 0,
      at: Date.now(),
    };
    requests.push(entry);
    const faultRequest: FaultRequest = {
      method: request.method,
      path: apiPath ?? path,
      url,
      headers: request.headers,
    };
    let fault = faults.take(faultRequest);
    if (fault?.kind === "delay") {
      entry.fault = "delay";
      await sleep(fault.ms);
      fault = undefined;
    }
    if (fault?.kind === "reset") {
      entry.fault = "reset";
      front.kill(info.remoteAddr.port);
      return new Response(null, { status: 500 });
    }
    await sleep(
      (options.latencyMs ?? 0) + (options.jitterMs ? jitter.next() * options.jitterMs : 0),
    );
    if (fault?.kind === "status") {
      entry.fault = "status";
      entry.status = fault.status;
      return faultReply(fault.status, fault.headers, fault.body);
    }
    const response = route(request, url, apiPath);
    entry.status = response.status;
    if (fault?.kind === "truncate") {
      entry.fault = "truncate";
      return truncated(response, await response.text(), fault);
    }
    return response;
  }

  const listening = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => listening.resolve(),
    onError: (error) => {
      if (error instanceof TruncatedByFault) return new Response(null, { status: 500 });
      console.error("fake GitLab handler failed:", error);
      return new Response(JSON.stringify({ message: "500 Internal Server Error" }), {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    },
  }, handle);
  await listening.promise;
  front.start(server.addr.port);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await front.close();
      await server.shutdown();
    })();
    return closing;
  };

  return {
    url: apiRoot,
    origin,
    get data() {
      return store.data;
    },
    requests,
    faults,
    clock,
    setData(mutate) {
      replies.clear();
      const replaced = mutate(store.data);
      if (replaced) store.data = replaced;
      store.reindex();
    },
    advance: (ms) => (replies.clear(), clock.advance(ms)),
    updateIssue: (...args) => (replies.clear(), store.updateIssue(...args)),
    addIssue: (...args) => (replies.clear(), store.addIssue(...args)),
    deleteIssue: (...args) => (replies.clear(), store.deleteIssue(...args)),
    updateMergeRequest: (...args) => (replies.clear(), store.updateMergeRequest(...args)),
    addMergeRequest: (...args) => (replies.clear(), store.addMergeRequest(...args)),
    deleteMergeRequest: (...args) => (replies.clear(), store.deleteMergeRequest(...args)),
    updatePipeline: (...args) => (replies.clear(), store.updatePipeline(...args)),
    addPipeline: (...args) => (replies.clear(), store.addPipeline(...args)),
    close,
    [Symbol.asyncDispose]: close,
  };
}
