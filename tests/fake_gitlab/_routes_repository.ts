/**
 * Routes for the repository: commits, branches, tags, and releases.
 *
 * @module
 */

import type { FakeProject, JsonRecord } from "./data.ts";
import { HttpError, notFound } from "./_http.ts";
import type { Route } from "./_router.ts";
import { boolParam, inRange, orderParam, sorted, sortParam, timeParam } from "./_filters.ts";

type Rec = JsonRecord;

function requireRepository(project: FakeProject): void {
  if (project.empty_repo === true) {
    throw new HttpError(404, { message: "404 Repository Not Found" });
  }
}

function withStats(commit: Rec, on: boolean): Rec {
  if (!on) return commit;
  const additions = (commit.id as string).charCodeAt(0) % 20;
  const deletions = (commit.id as string).charCodeAt(1) % 10;
  return { ...commit, stats: { additions, deletions, total: additions + deletions } };
}

/** The repository routes. */
export const repositoryRoutes: Route[] = [
  {
    pattern: "/projects/:id/repository/commits",
    handler: (ctx) => {
      const project = ctx.project();
      requireRepository(project);
      let commits = ctx.store.data.commits.get(project.id) ?? [];
      const ref = ctx.params.get("ref_name");
      if (ref) {
        const branch = (ctx.store.data.branches.get(project.id) ?? []).find((b) => b.name === ref);
        const tag = (ctx.store.data.tags.get(project.id) ?? []).find((t) => t.name === ref);
        const head = (branch?.commit as Rec | undefined)?.id ?? tag?.target ?? ref;
        const start = commits.findIndex((c) => c.id === head);
        if (start < 0) throw new HttpError(404, { message: "404 Commit Not Found" });
        commits = commits.slice(start);
      }
      commits = inRange(
        commits,
        "committed_date",
        timeParam(ctx.params, "since"),
        timeParam(ctx.params, "until"),
      );
      const stats = boolParam(ctx.params, "with_stats") ?? false;
      return ctx.list(commits, { counts: false }, (c) => withStats(c, stats));
    },
  },
  {
    pattern: "/projects/:id/repository/commits/:sha",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      requireRepository(project);
      const sha = ctx.path.sha;
      const commit = (ctx.store.data.commits.get(project.id) ?? []).find((c) =>
        c.id === sha || c.short_id === sha
      );
      if (!commit) throw new HttpError(404, { message: "404 Commit Not Found" });
      return ctx.one(withStats(commit, true));
    },
  },
  {
    pattern: "/projects/:id/repository/branches",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      requireRepository(project);
      let items = ctx.store.data.branches.get(project.id) ?? [];
      const search = ctx.params.get("search");
      if (search) items = items.filter((b) => String(b.name).includes(search));
      const sort = ctx.params.get("sort") ?? "name_asc";
      if (!["name_asc", "updated_asc", "updated_desc"].includes(sort)) {
        throw new HttpError(400, { error: "sort does not have a valid value" });
      }
      const byDate = (b: Rec) => String((b.commit as Rec).committed_date);
      items = [...items].sort((a, b) =>
        sort === "name_asc"
          ? String(a.name).localeCompare(String(b.name))
          : (sort === "updated_asc" ? 1 : -1) * byDate(a).localeCompare(byDate(b))
      );
      return ctx.list(items);
    },
  },
  {
    pattern: "/projects/:id/repository/branches/:branch",
    handler: (ctx) => {
      const project = ctx.project();
      requireRepository(project);
      const branch = (ctx.store.data.branches.get(project.id) ?? []).find((b) =>
        b.name === ctx.path.branch
      );
      if (!branch) throw notFound("Branch");
      return ctx.one(branch);
    },
  },
  {
    pattern: "/projects/:id/repository/tags",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      requireRepository(project);
      const order = orderParam(ctx.params, ["name", "updated", "version"], "updated");
      const sort = sortParam(ctx.params, "desc");
      const items = [...(ctx.store.data.tags.get(project.id) ?? [])];
      const key = (t: Rec) =>
        order === "updated" ? String((t.commit as Rec).committed_date) : String(t.name);
      items.sort((a, b) =>
        (sort === "asc" ? 1 : -1) * key(a).localeCompare(key(b), "en", { numeric: true })
      );
      return ctx.list(items);
    },
  },
  {
    pattern: "/projects/:id/releases",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      const order = orderParam(ctx.params, ["released_at", "created_at"], "released_at");
      return ctx.list(
        sorted(ctx.store.data.releases.get(project.id) ?? [], order, sortParam(ctx.params, "desc")),
      );
    },
  },
  {
    pattern: "/projects/:id/releases/:tag_name",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      const release = (ctx.store.data.releases.get(project.id) ?? []).find((r) =>
        r.tag_name === ctx.path.tag_name
      );
      if (!release) throw notFound("");
      return ctx.one(release);
    },
  },
];
