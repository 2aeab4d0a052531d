/**
 * Routes outside `/projects`: groups, users, the CI job, and the instance-level endpoints of
 * the dlt OpenAPI seed (application settings, admin resources, metadata).
 *
 * @module
 */

import type { FakeGroup, JsonRecord } from "./data.ts";
import { HttpError, notFound, type Reply, unauthorized } from "./_http.ts";
import type { Route, RouteContext } from "./_router.ts";
import { boolParam, inRange, orderParam, sorted, sortParam, timeParam } from "./_filters.ts";
import { memberQuery, projectList, renderBadge, withAttributes } from "./_routes_projects.ts";
import { basicUser } from "./_users.ts";
import { projectView } from "./_project.ts";

type Rec = JsonRecord;

function groupList(ctx: RouteContext, groups: FakeGroup[]): Reply {
  let items = groups;
  if (boolParam(ctx.params, "top_level_only")) items = items.filter((g) => g.parent_id === null);
  const search = ctx.params.get("search")?.toLowerCase();
  if (search) {
    items = items.filter((g) =>
      g.name.toLowerCase().includes(search) || g.full_path.includes(search)
    );
  }
  const skip = ctx.params.getAll("skip_groups[]").map(Number);
  if (skip.length) items = items.filter((g) => !skip.includes(g.id));
  const order = orderParam(ctx.params, ["name", "path", "id", "similarity"], "name");
  const field = order === "similarity" ? "name" : order;
  return ctx.list(sorted(items, field, sortParam(ctx.params, "asc")));
}

function byId(ctx: RouteContext, items: Rec[], param: string, what: string): Reply {
  const id = ctx.intPath(param, what);
  const found = items.find((x) => x.id === id);
  if (!found) throw notFound(what);
  return ctx.one(found);
}

/** Routes for groups, users and the instance. */
export const instanceRoutes: Route[] = [
  { pattern: "/groups", handler: (ctx) => groupList(ctx, ctx.store.data.groups) },
  {
    pattern: "/groups/:id",
    handler: (ctx) => {
      const group = ctx.group();
      const out: Rec = {
        ...group,
        shared_with_groups: [],
        prevent_sharing_groups_outside_hierarchy: false,
      };
      if (boolParam(ctx.params, "with_projects") ?? true) {
        // GitLab embeds at most 100 projects here (deprecated; airbytehq/airbyte#56916).
        out.projects = ctx.store.groupProjects(group, false)
          .filter((p) => ctx.store.canSee(ctx.principal, p))
          .slice(0, 100)
          .map((p) => projectView(p, { simple: false, statistics: false, commitCount: 0 }));
        out.shared_projects = [];
      }
      return ctx.one(out);
    },
  },
  {
    pattern: "/groups/:id/subgroups",
    handler: (ctx) => groupList(ctx, ctx.store.subgroups(ctx.group().id)),
  },
  {
    pattern: "/groups/:id/descendant_groups",
    handler: (ctx) => groupList(ctx, ctx.store.descendants(ctx.group().id)),
  },
  {
    pattern: "/groups/:id/projects",
    handler: (ctx) => {
      const group = ctx.group();
      const include = boolParam(ctx.params, "include_subgroups") ?? false;
      return projectList(ctx, ctx.store.groupProjects(group, include));
    },
  },
  {
    pattern: "/groups/:id/members",
    handler: (ctx) =>
      ctx.list(memberQuery(ctx, ctx.store.data.groupMembers.get(ctx.group().id) ?? [])),
  },
  {
    pattern: "/groups/:id/members/all",
    handler: (ctx) => {
      const seen = new Map<unknown, Rec>();
      for (const g of ctx.store.lineage(ctx.group())) {
        for (const m of ctx.store.data.groupMembers.get(g.id) ?? []) {
          if (!seen.has(m.id)) seen.set(m.id, m);
        }
      }
      return ctx.list(memberQuery(ctx, [...seen.values()]));
    },
  },
  {
    pattern: "/groups/:id/access_requests",
    handler: (ctx) =>
      ctx.list(
        ctx.store.data.groupAccessRequests.get(ctx.group().id) ?? [],
        {},
        withAttributes(ctx),
      ),
  },
  {
    pattern: "/groups/:id/badges",
    handler: (ctx) => ctx.list(ctx.store.data.groupBadges.get(ctx.group().id) ?? []),
  },
  {
    pattern: "/groups/:id/badges/render",
    handler: (ctx) => renderBadge(ctx, ctx.group().full_path),
  },
  {
    pattern: "/groups/:id/badges/:badge_id",
    handler: (ctx) =>
      byId(ctx, ctx.store.data.groupBadges.get(ctx.group().id) ?? [], "badge_id", "Badge"),
  },
  {
    pattern: "/users",
    handler: (ctx) => {
      const { params } = ctx;
      let items = ctx.store.data.users;
      const username = params.get("username");
      if (username) {
        items = items.filter((u) => u.username.toLowerCase() === username.toLowerCase());
      }
      if (boolParam(params, "active")) items = items.filter((u) => u.state === "active");
      if (boolParam(params, "blocked")) items = items.filter((u) => u.state === "blocked");
      const search = params.get("search")?.toLowerCase();
      if (search) {
        items = items.filter((u) =>
          u.username.includes(search) || u.name.toLowerCase().includes(search)
        );
      }
      items = inRange(
        items,
        "created_at",
        timeParam(params, "created_after"),
        timeParam(params, "created_before"),
      );
      const order = orderParam(
        params,
        ["id", "name", "username", "created_at", "updated_at"],
        "id",
      );
      const field = order === "updated_at" ? "created_at" : order;
      const view = ctx.admin ? undefined : basicUser;
      return ctx.list(sorted(items, field, sortParam(params, "desc")), {}, view);
    },
  },
  {
    pattern: "/users/:user_id",
    handler: (ctx) => {
      const user = ctx.store.user(ctx.intPath("user_id", "User"));
      if (!user) throw notFound("User");
      return ctx.one(ctx.admin ? user : basicUser(user));
    },
  },
  { pattern: "/user", handler: (ctx) => ctx.one(ctx.principal.user) },
  {
    pattern: "/job",
    job: "allow",
    handler: (ctx) => {
      const principal = ctx.principal;
      if (principal.kind !== "job") throw unauthorized();
      const jobs = ctx.store.projectJobs(principal.projectId);
      if (!jobs.length) throw new HttpError(404, { message: "404 Not found" });
      return ctx.one({ ...jobs[jobs.length - 1], status: "running" });
    },
  },
  {
    pattern: "/application/appearance",
    handler: (ctx) => (ctx.requireAdmin(), ctx.one(ctx.store.data.instance.appearance)),
  },
  {
    pattern: "/application/plan_limits",
    handler: (ctx) => (ctx.requireAdmin(), ctx.one(ctx.store.data.instance.planLimits)),
  },
  {
    pattern: "/applications",
    handler: (ctx) => (ctx.requireAdmin(), ctx.one(ctx.store.data.instance.applications)),
  },
  {
    pattern: "/admin/batched_background_migrations",
    handler: (ctx) => {
      ctx.requireAdmin();
      // "the last 20", no paging parameters (gitlab.md §1)
      return ctx.one(ctx.store.data.instance.batchedBackgroundMigrations.slice(-20));
    },
  },
  {
    pattern: "/admin/batched_background_migrations/:mid",
    handler: (
      ctx,
    ) => (ctx.requireAdmin(),
      byId(
        ctx,
        ctx.store.data.instance.batchedBackgroundMigrations,
        "mid",
        "Batched background migration",
      )),
  },
  {
    pattern: "/admin/ci/variables",
    handler: (ctx) => (ctx.requireAdmin(), ctx.list(ctx.store.data.instance.ciVariables)),
  },
  {
    pattern: "/admin/ci/variables/:key",
    handler: (ctx) => {
      ctx.requireAdmin();
      const variable = ctx.store.data.instance.ciVariables.find((v) => v.key === ctx.path.key);
      if (!variable) throw notFound("Variable");
      return ctx.one(variable);
    },
  },
  {
    pattern: "/admin/clusters",
    handler: (ctx) => (ctx.requireAdmin(), ctx.one(ctx.store.data.instance.clusters)),
  },
  {
    pattern: "/admin/clusters/:cluster_id",
    handler: (
      ctx,
    ) => (ctx.requireAdmin(), byId(ctx, ctx.store.data.instance.clusters, "cluster_id", "Cluster")),
  },
  {
    pattern: "/admin/databases/:database/dictionary/tables/:table",
    handler: (ctx) => {
      ctx.requireAdmin();
      if (!["main", "ci"].includes(ctx.path.database)) {
        throw new HttpError(400, { error: "database does not have a valid value" });
      }
      return ctx.one({ table_name: ctx.path.table, feature_categories: ["database"] });
    },
  },
  {
    pattern: "/broadcast_messages",
    handler: (ctx) => ctx.list(ctx.store.data.instance.broadcastMessages),
  },
  {
    pattern: "/broadcast_messages/:message_id",
    handler: (ctx) =>
      byId(ctx, ctx.store.data.instance.broadcastMessages, "message_id", "Broadcast Message"),
  },
  { pattern: "/bulk_imports", handler: (ctx) => ctx.list(ctx.store.data.instance.bulkImports) },
  {
    pattern: "/bulk_imports/entities",
    handler: (ctx) => ctx.list(ctx.store.data.instance.bulkImportEntities),
  },
  {
    pattern: "/bulk_imports/:import_id",
    handler: (ctx) => byId(ctx, ctx.store.data.instance.bulkImports, "import_id", "Bulk import"),
  },
  {
    pattern: "/bulk_imports/:import_id/entities",
    handler: (ctx) => {
      const id = ctx.intPath("import_id", "Bulk import");
      if (!ctx.store.data.instance.bulkImports.some((b) => b.id === id)) {
        throw notFound("Bulk import");
      }
      return ctx.list(
        ctx.store.data.instance.bulkImportEntities.filter((e) => e.bulk_import_id === id),
      );
    },
  },
  {
    pattern: "/bulk_imports/:import_id/entities/:entity_id",
    handler: (ctx) => {
      const id = ctx.intPath("import_id", "Bulk import");
      const entities = ctx.store.data.instance.bulkImportEntities.filter((e) =>
        e.bulk_import_id === id
      );
      return byId(ctx, entities, "entity_id", "Bulk import entity");
    },
  },
  { pattern: "/metadata", handler: (ctx) => ctx.one(ctx.store.data.instance.metadata) },
  { pattern: "/version", handler: (ctx) => ctx.one(ctx.store.data.instance.version) },
  {
    pattern: "/avatar",
    handler: (ctx) => {
      const email = ctx.params.get("email");
      if (!email) throw new HttpError(400, { error: "email is missing" });
      const user = ctx.store.data.users.find((u) => u.email === email);
      return ctx.one({
        avatar_url: user ? user.avatar_url : `https://www.gravatar.com/avatar/${email.length}?s=80`,
      });
    },
  },
];
