/**
 * The extra `scope` key: a `projects` or `groups` resource reads the projects and groups the
 * config names (`[sources.gitlab] projects / groups`) instead of its endpoint alone.
 *
 * @module
 */

import type { Json, PaginatorConfig, ResolvedResource } from "../catalog/types.ts";
import type { GitlabSourceConfig } from "../config/types.ts";
import type { HttpRequest } from "./http_client.ts";

/** One request series to run for a resource. */
export interface RequestSeries {
  /** First request. */
  request: HttpRequest;
  /** Paginator; `undefined` = auto. */
  paginator?: PaginatorConfig;
  /** `data_selector`; `undefined` = auto-detect. */
  dataSelector?: string;
  /** What the series reads, for messages (`project "group/app"`). */
  label?: string;
}

/**
 * Parameters of a list endpoint that make no sense (or break) on the scoped requests. Keyset
 * `pagination` is kept for a group's projects (GitLab caps their offset pages, as `/projects`'),
 * not for its subgroups (no keyset there).
 */
const LIST_ONLY = ["membership", "id_after", "id_before"];
const SUBGROUPS_DROP = [...LIST_ONLY, "pagination"];
const SINGLE_DROP = [...SUBGROUPS_DROP, "page", "per_page", "order_by", "sort", "owned", "search"];

function without(params: HttpRequest["params"], drop: string[]): Record<string, Json | undefined> {
  const out = { ...params };
  for (const k of drop) delete out[k];
  return out;
}

/** A project or group id or path as one URL path segment (`group/sub` → `group%2Fsub`). */
export function encodeId(id: string | number): string {
  return encodeURIComponent(String(id).trim());
}

/**
 * The request series of a scoped root resource, given its own first request `base` (with its
 * params) and its effective paginator and selector.
 *
 * `scope: projects` — configured projects: `GET projects/<id>` each (one object); configured
 * groups: `GET groups/<g>/projects?include_subgroups=true` each (the endpoint's params except
 * `membership`, paginated); neither: the endpoint itself.
 *
 * `scope: groups` — configured groups: `GET groups/<g>` and `GET groups/<g>/descendant_groups`
 * each; only projects configured: nothing; neither: the endpoint itself.
 *
 * Records are de-duplicated by `id` across the series by the caller.
 *
 * @example
 * ```ts
 * scopeSeries("projects", { projects: ["g/app"], groups: [] }, { url: "projects" });
 * // [{ request: { url: "projects/g%2Fapp", ... }, paginator: { type: "single_page" }, ... }]
 * ```
 */
export function scopeSeries(
  scope: NonNullable<ResolvedResource["scope"]>,
  source: Pick<GitlabSourceConfig, "projects" | "groups">,
  base: RequestSeries,
): RequestSeries[] {
  const projects = source.projects ?? [];
  const groups = source.groups ?? [];
  const single = (url: string, label: string): RequestSeries => ({
    request: { ...base.request, url, params: without(base.request.params, SINGLE_DROP) },
    paginator: { type: "single_page" },
    dataSelector: "$",
    label,
  });
  const list = (
    url: string,
    label: string,
    drop: string[],
    extra: Record<string, Json> = {},
  ): RequestSeries => ({
    request: {
      ...base.request,
      url,
      params: { ...without(base.request.params, drop), ...extra },
    },
    paginator: base.paginator,
    dataSelector: base.dataSelector,
    label,
  });
  if (scope === "projects") {
    if (projects.length === 0 && groups.length === 0) return [base];
    return [
      ...projects.map((p) => single(`projects/${encodeId(p)}`, `project "${p}"`)),
      ...groups.map((g) =>
        list(`groups/${encodeId(g)}/projects`, `projects of group "${g}"`, LIST_ONLY, {
          include_subgroups: true,
        })
      ),
    ];
  }
  if (groups.length === 0) return projects.length > 0 ? [] : [base];
  return groups.flatMap((g) => [
    single(`groups/${encodeId(g)}`, `group "${g}"`),
    list(`groups/${encodeId(g)}/descendant_groups`, `subgroups of group "${g}"`, SUBGROUPS_DROP),
  ]);
}
