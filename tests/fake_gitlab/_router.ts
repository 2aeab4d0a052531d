/**
 * Route table matching and the context a handler gets: the caller, path parameters, and
 * helpers to resolve projects and groups and to paginate lists the way GitLab does.
 *
 * @module
 */

import type { FakeGroup, FakeProject, JsonRecord } from "./data.ts";
import type { Principal } from "./_auth.ts";
import type { Store } from "./_store.ts";
import { forbidden, HttpError, notFound, type Reply, unauthorized } from "./_http.ts";
import {
  keysetPage,
  type OffsetOptions,
  offsetPage,
  type PageRequest,
  wantsKeyset,
} from "./_pagination.ts";

/** How a CI job token may use a route (gitlab.md §3). */
export type JobAccess = "allow" | "readJobs";

/** A handler's context. */
export class RouteContext {
  readonly store: Store;
  readonly principal: Principal;
  readonly params: URLSearchParams;
  readonly path: Record<string, string>;
  readonly page: PageRequest;
  readonly maxOffset: number;

  constructor(init: {
    store: Store;
    principal: Principal;
    params: URLSearchParams;
    path: Record<string, string>;
    page: PageRequest;
    maxOffset: number;
  }) {
    this.store = init.store;
    this.principal = init.principal;
    this.params = init.params;
    this.path = init.path;
    this.page = init.page;
    this.maxOffset = init.maxOffset;
  }

  /** Whether the caller is an administrator. */
  get admin(): boolean {
    return this.principal.kind === "user" && this.principal.admin;
  }

  /** The project named by `:id`, or 404 `Project Not Found`. */
  project(): FakeProject {
    const project = this.store.project(this.path.id);
    if (!project || !this.store.canSee(this.principal, project)) throw notFound("Project");
    return project;
  }

  /** The group named by `:id`, or 404 `Group Not Found`. */
  group(): FakeGroup {
    const group = this.store.group(this.path.id);
    if (!group) throw notFound("Group");
    return group;
  }

  /** An integer path parameter, or 404 `<what> Not Found`. */
  intPath(name: string, what: string): number {
    const raw = this.path[name];
    if (!/^\d+$/.test(raw)) throw notFound(what);
    return Number(raw);
  }

  /** 403 unless the caller is an administrator. */
  requireAdmin(): void {
    if (!this.admin) throw forbidden();
  }

  /** Serves one offset page of `items` (mapped by `view` after slicing). */
  list<T>(items: readonly T[], options: OffsetOptions = {}, view?: (item: T) => unknown): Reply {
    const reply = offsetPage(items, this.page, options);
    if (view) reply.body = (reply.body as T[]).map(view);
    return reply;
  }

  /** Serves keyset or offset pages, for endpoints that support `pagination=keyset`. */
  keysetOrList<T extends { id: number }>(
    items: readonly T[],
    options: OffsetOptions,
    view?: (item: T) => unknown,
  ): Reply {
    if (!wantsKeyset(this.params)) return this.list(items, options, view);
    const reply = keysetPage(items, this.page);
    if (view) reply.body = (reply.body as T[]).map(view);
    return reply;
  }

  /** A single record. */
  one(record: unknown): Reply {
    return { status: 200, body: record };
  }
}

/** A route: path pattern with `:name` segments. */
export interface Route {
  pattern: string;
  handler: (ctx: RouteContext) => Reply;
  /** Whether a CI job token may call it. */
  job?: JobAccess;
}

interface CompiledRoute extends Route {
  segments: string[];
}

/** Matches decoded path segments against the routes. */
export class Router {
  #routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.#routes = routes.map((r) => ({ ...r, segments: r.pattern.split("/").filter(Boolean) }));
  }

  /** The matching route and its parameters, or `undefined`. */
  match(segments: string[]): { route: Route; path: Record<string, string> } | undefined {
    for (const route of this.#routes) {
      if (route.segments.length !== segments.length) continue;
      const path: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const want = route.segments[i];
        if (want.startsWith(":")) path[want.slice(1)] = segments[i];
        else ok = want === segments[i];
      }
      if (ok) return { route, path };
    }
    return undefined;
  }
}

/**
 * Applies the job-token allowlist: outside it GitLab answers 404 on the project itself and
 * 401 elsewhere (python-gitlab#1393, #1620; ocx-sh/ocx#432).
 */
export function checkJobAccess(route: Route, principal: Principal): void {
  if (principal.kind !== "job") return;
  if (route.job === "allow" || (route.job === "readJobs" && principal.readJobs)) return;
  if (route.pattern === "/projects/:id") throw notFound("Project");
  throw unauthorized();
}

/** Drops keys whose value is `undefined` (GitLab omits them). */
export function compact(record: JsonRecord): JsonRecord {
  const out: JsonRecord = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out;
}

export { HttpError };
