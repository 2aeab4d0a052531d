/**
 * Routes for issues and merge requests, their notes, and merge request commits.
 *
 * @module
 */

import type { FakeIssue, FakeMergeRequest, FakeNote, FakeProject, JsonRecord } from "./data.ts";
import { forbidden, HttpError, notFound, type Reply } from "./_http.ts";
import type { Route, RouteContext } from "./_router.ts";
import { boolParam, listParam, orderParam, sorted, sortParam, timeFilters } from "./_filters.ts";

type Rec = JsonRecord;

function requireIssues(project: FakeProject): void {
  if (project.issues_enabled === false) throw forbidden();
}

function labelFilter<T extends Rec>(items: T[], params: URLSearchParams): T[] {
  const labels = listParam(params, "labels");
  if (!labels) return items;
  if (labels.length === 1 && labels[0].toLowerCase() === "none") {
    return items.filter((i) => (i.labels as unknown[]).length === 0);
  }
  if (labels.length === 1 && labels[0].toLowerCase() === "any") {
    return items.filter((i) => (i.labels as unknown[]).length > 0);
  }
  return items.filter((i) => labels.every((l) => (i.labels as string[]).includes(l)));
}

function issuableList<T extends FakeIssue | FakeMergeRequest>(
  ctx: RouteContext,
  project: FakeProject,
  all: T[],
  states: string[],
): Reply {
  const { params } = ctx;
  let items = all;
  const state = params.get("state") ?? "all";
  if (!states.includes(state)) {
    throw new HttpError(400, { error: "state does not have a valid value" });
  }
  if (state !== "all") items = items.filter((i) => i.state === state);
  const scope = params.get("scope") ?? "all";
  const me = ctx.principal.user.id;
  if (scope === "created_by_me" || scope === "created-by-me") {
    items = items.filter((i) => (i.author as Rec).id === me);
  } else if (scope === "assigned_to_me" || scope === "assigned-to-me") {
    items = items.filter((i) => (i.assignees as Rec[]).some((a) => a.id === me));
  } else if (scope !== "all") {
    throw new HttpError(400, { error: "scope does not have a valid value" });
  }
  const iids = listParam(params, "iids");
  if (iids) items = items.filter((i) => iids.includes(String(i.iid)));
  const author = params.get("author_id");
  if (author) items = items.filter((i) => String((i.author as Rec).id) === author);
  const milestone = params.get("milestone");
  if (milestone) items = items.filter((i) => (i.milestone as Rec | null)?.title === milestone);
  const search = params.get("search")?.toLowerCase();
  if (search) items = items.filter((i) => String(i.title).toLowerCase().includes(search));
  items = labelFilter(items, params);
  items = timeFilters(items, params);
  const order = orderParam(
    params,
    [
      "created_at",
      "updated_at",
      "id",
      "title",
      "priority",
      "due_date",
      "relative_position",
      "label_priority",
      "milestone_due",
      "popularity",
      "weight",
      "merged_at",
    ],
    "created_at",
  );
  const field = ["created_at", "updated_at", "id", "title", "merged_at"].includes(order)
    ? order
    : "created_at";
  items = sorted(items, field, sortParam(params, "desc"));
  const details = boolParam(params, "with_labels_details") ?? false;
  const labels = ctx.store.data.labels.get(project.id) ?? [];
  return ctx.list(
    items,
    {},
    (i) =>
      details
        ? {
          ...i,
          labels: (i.labels as string[]).map((n) =>
            labels.find((l) => l.name === n) ?? { name: n }
          ),
        }
        : i,
  );
}

function notesList(ctx: RouteContext, notes: FakeNote[]): Reply {
  const order = orderParam(ctx.params, ["created_at", "updated_at"], "created_at");
  return ctx.list(sorted(notes, order, sortParam(ctx.params, "desc")));
}

function findIssue(ctx: RouteContext): FakeIssue {
  const project = ctx.project();
  requireIssues(project);
  const iid = ctx.intPath("iid", "Issue");
  const issue = (ctx.store.data.issues.get(project.id) ?? []).find((i) => i.iid === iid);
  if (!issue) throw notFound("Issue");
  return issue;
}

function findMergeRequest(ctx: RouteContext): FakeMergeRequest {
  const project = ctx.project();
  const iid = ctx.intPath("iid", "Merge Request");
  const mr = (ctx.store.data.mergeRequests.get(project.id) ?? []).find((m) => m.iid === iid);
  if (!mr) throw notFound("Merge Request");
  return mr;
}

/** The issuables routes. */
export const issuableRoutes: Route[] = [
  {
    pattern: "/projects/:id/issues",
    handler: (ctx) => {
      const project = ctx.project();
      requireIssues(project);
      return issuableList(ctx, project, ctx.store.data.issues.get(project.id) ?? [], [
        "opened",
        "closed",
        "all",
      ]);
    },
  },
  { pattern: "/projects/:id/issues/:iid", handler: (ctx) => ctx.one(findIssue(ctx)) },
  {
    pattern: "/projects/:id/issues/:iid/notes",
    handler: (ctx) => notesList(ctx, ctx.store.data.issueNotes.get(findIssue(ctx).id) ?? []),
  },
  {
    pattern: "/projects/:id/merge_requests",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      const states = ["opened", "closed", "locked", "merged", "all"];
      return issuableList(ctx, project, ctx.store.data.mergeRequests.get(project.id) ?? [], states);
    },
  },
  {
    pattern: "/projects/:id/merge_requests/:iid",
    job: "allow",
    handler: (ctx) => ctx.one(findMergeRequest(ctx)),
  },
  {
    pattern: "/projects/:id/merge_requests/:iid/notes",
    job: "allow",
    handler: (ctx) =>
      notesList(ctx, ctx.store.data.mergeRequestNotes.get(findMergeRequest(ctx).id) ?? []),
  },
  {
    pattern: "/projects/:id/merge_requests/:iid/commits",
    handler: (ctx) => {
      const mr = findMergeRequest(ctx);
      const commits = ctx.store.data.commits.get(mr.project_id) ?? [];
      const shas = ctx.store.data.mergeRequestCommits.get(mr.id) ?? [];
      return ctx.list(
        shas.map((sha) => commits.find((c) => c.id === sha)).filter((c) => c !== undefined),
      );
    },
  },
];
