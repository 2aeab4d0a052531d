/**
 * Routes under `/projects` that are not issues, CI or repository: the project list and record, milestones, labels, members, events, badges, access requests, alert metric images.
 *
 * @module
 */

import type { FakeProject, JsonRecord } from "./data.ts";
import { HttpError, notFound, type Reply } from "./_http.ts";
import { compact, type Route, type RouteContext } from "./_router.ts";
import { projectView } from "./_project.ts";
import {
  boolParam,
  dateParam,
  inRange,
  listParam,
  orderParam,
  sorted,
  sortParam,
  timeParam,
} from "./_filters.ts";

type Rec = JsonRecord;

export function projectList(ctx: RouteContext, candidates: FakeProject[]): Reply {
  const { params, store, principal } = ctx;
  let items = candidates.filter((p) => store.canSee(principal, p));
  const userId = principal.user.id;
  if (boolParam(params, "membership")) items = items.filter((p) => store.isMember(userId, p));
  if (boolParam(params, "owned")) items = items.filter((p) => store.accessLevel(userId, p) >= 50);
  const archived = boolParam(params, "archived");
  if (archived !== undefined) items = items.filter((p) => p.archived === archived);
  const visibility = params.get("visibility");
  if (visibility) items = items.filter((p) => p.visibility === visibility);
  const search = params.get("search")?.toLowerCase();
  if (search) {
    items = items.filter((p) =>
      String(p.name).toLowerCase().includes(search) || String(p.path).includes(search)
    );
  }
  const order = orderParam(
    params,
    ["id", "name", "path", "created_at", "updated_at", "last_activity_at", "star_count"],
    "created_at",
  );
  if ((params.has("updated_after") || params.has("updated_before")) && order !== "updated_at") {
    throw new HttpError(400, {
      message:
        "400 Bad request - `updated_after` and `updated_before` require `order_by=updated_at`",
    });
  }
  items = inRange(
    items,
    "updated_at",
    timeParam(params, "updated_after"),
    timeParam(params, "updated_before"),
  );
  items = inRange(
    items,
    "last_activity_at",
    timeParam(params, "last_activity_after"),
    timeParam(params, "last_activity_before"),
  );
  const keyset = params.get("pagination") === "keyset";
  if (!keyset) {
    const after = params.get("id_after");
    const before = params.get("id_before");
    if (after) items = items.filter((p) => p.id > Number(after));
    if (before) items = items.filter((p) => p.id < Number(before));
  }
  items = sorted(items, order, sortParam(params, "desc"));
  const simple = boolParam(params, "simple") ?? false;
  const statistics = boolParam(params, "statistics") ?? false;
  return ctx.keysetOrList(
    items,
    { maxOffset: ctx.maxOffset, typeName: "Project" },
    (p) =>
      projectView(p, {
        simple,
        statistics,
        commitCount: store.data.commits.get(p.id)?.length ?? 0,
      }),
  );
}

/** The projects routes. */
export const projectRoutes: Route[] = [
  { pattern: "/projects", handler: (ctx) => projectList(ctx, ctx.store.data.projects) },
  {
    pattern: "/projects/:id",
    handler: (ctx) => {
      const p = ctx.project();
      const statistics = boolParam(ctx.params, "statistics") ?? false;
      const commitCount = ctx.store.data.commits.get(p.id)?.length ?? 0;
      return ctx.one(projectView(p, { simple: false, statistics, commitCount }));
    },
  },
  {
    pattern: "/projects/:id/milestones",
    handler: (ctx) => {
      const project = ctx.project();
      let items = ctx.store.data.milestones.get(project.id) ?? [];
      const state = ctx.params.get("state");
      if (state) items = items.filter((m) => m.state === state);
      const title = ctx.params.get("title");
      if (title) items = items.filter((m) => m.title === title);
      const iids = listParam(ctx.params, "iids");
      if (iids) items = items.filter((m) => iids.includes(String(m.iid)));
      items = inRange(
        items,
        "updated_at",
        timeParam(ctx.params, "updated_after"),
        timeParam(ctx.params, "updated_before"),
      );
      return ctx.list(sorted(items, "id", "asc"));
    },
  },
  {
    pattern: "/projects/:id/labels",
    handler: (ctx) => {
      const project = ctx.project();
      const counts = boolParam(ctx.params, "with_counts") ?? false;
      const items = [...(ctx.store.data.labels.get(project.id) ?? [])]
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      return ctx.list(items, {}, (l) => {
        if (counts) return l;
        const {
          open_issues_count: _o,
          closed_issues_count: _c,
          open_merge_requests_count: _m,
          ...rest
        } = l;
        return rest;
      });
    },
  },
  {
    pattern: "/projects/:id/members",
    handler: (ctx) =>
      ctx.list(memberQuery(ctx, ctx.store.data.members.get(ctx.project().id) ?? [])),
  },
  {
    pattern: "/projects/:id/members/all",
    handler: (ctx) => {
      const project = ctx.project();
      const seen = new Map<unknown, Rec>();
      for (const m of ctx.store.data.members.get(project.id) ?? []) seen.set(m.id, m);
      for (const g of ctx.store.lineage(ctx.store.group(String(project.namespace.id)))) {
        for (const m of ctx.store.data.groupMembers.get(g.id) ?? []) {
          if (!seen.has(m.id)) seen.set(m.id, m);
        }
      }
      return ctx.list(memberQuery(ctx, [...seen.values()]));
    },
  },
  {
    pattern: "/projects/:id/users",
    handler: (ctx) => {
      const project = ctx.project();
      const ids = new Set((ctx.store.data.members.get(project.id) ?? []).map((m) => m.id));
      return ctx.list(
        ctx.store.data.users.filter((u) => ids.has(u.id)).map((u) => ({
          id: u.id,
          username: u.username,
          name: u.name,
          state: u.state,
          locked: u.locked,
          avatar_url: u.avatar_url,
          web_url: u.web_url,
        })),
      );
    },
  },
  {
    pattern: "/projects/:id/events",
    handler: (ctx) => {
      const project = ctx.project();
      let items = ctx.store.data.events.get(project.id) ?? [];
      const action = ctx.params.get("action");
      if (action) items = items.filter((e) => String(e.action_name).startsWith(action));
      const target = ctx.params.get("target_type");
      if (target) {
        items = items.filter((e) => String(e.target_type).toLowerCase() === target.toLowerCase());
      }
      // `after`/`before` are dates and exclusive: after the end of `after`, before the start of `before`.
      const after = dateParam(ctx.params, "after");
      const before = dateParam(ctx.params, "before");
      items = inRange(
        items,
        "created_at",
        after === undefined ? undefined : after + 86_400_000,
        undefined,
      );
      if (before !== undefined) items = items.filter((e) => Date.parse(e.created_at) < before);
      return ctx.list(sorted(items, "created_at", sortParam(ctx.params, "desc")));
    },
  },
  {
    pattern: "/projects/:id/badges",
    handler: (ctx) => {
      const project = ctx.project();
      const groupBadges = ctx.store.lineage(ctx.store.group(String(project.namespace.id)))
        .flatMap((g) => ctx.store.data.groupBadges.get(g.id) ?? []);
      return ctx.list([...(ctx.store.data.badges.get(project.id) ?? []), ...groupBadges]);
    },
  },
  {
    pattern: "/projects/:id/badges/render",
    handler: (ctx) => renderBadge(ctx, ctx.project().path_with_namespace),
  },
  {
    pattern: "/projects/:id/badges/:badge_id",
    handler: (ctx) => {
      const project = ctx.project();
      const id = ctx.intPath("badge_id", "Badge");
      const badge = (ctx.store.data.badges.get(project.id) ?? []).find((b) => b.id === id);
      if (!badge) throw notFound("Badge");
      return ctx.one(badge);
    },
  },
  {
    pattern: "/projects/:id/access_requests",
    handler: (ctx) =>
      ctx.list(ctx.store.data.accessRequests.get(ctx.project().id) ?? [], {}, withAttributes(ctx)),
  },
  {
    pattern: "/projects/:id/alert_management_alerts/:alert_iid/metric_images",
    handler: (ctx) => {
      const project = ctx.project();
      const images = ctx.store.data.alertMetricImages.get(`${project.id}/${ctx.path.alert_iid}`);
      if (!images) throw new HttpError(404, { message: "404 Not found" });
      return ctx.one(images);
    },
  },
];

/** `query` filter of member lists. */
export function memberQuery(ctx: RouteContext, members: Rec[]): Rec[] {
  const query = ctx.params.get("query")?.toLowerCase();
  if (!query) return members;
  return members.filter((m) =>
    String(m.username).toLowerCase().includes(query) || String(m.name).toLowerCase().includes(query)
  );
}

/** `GET .../badges/render`: the badge URLs with placeholders filled in. */
export function renderBadge(ctx: RouteContext, path: string): Reply {
  const fill = (s: string | null) =>
    s === null
      ? null
      : s.replaceAll("%{project_path}", path).replaceAll("%{default_branch}", "main");
  const link = ctx.params.get("link_url");
  const image = ctx.params.get("image_url");
  return ctx.one(compact({
    link_url: link,
    image_url: image,
    rendered_link_url: fill(link),
    rendered_image_url: fill(image),
  }));
}

/**
 * Access requesters as GitLab shows them: administrators also see each user's
 * `custom_attributes` (what the seed's `api_entities_custom_attribute` table selects).
 */
export function withAttributes(ctx: RouteContext): (item: Rec) => Rec {
  return (item) =>
    ctx.admin
      ? { ...item, custom_attributes: [{ key: "requested_via", value: "fake_gitlab" }] }
      : item;
}
