/**
 * Routes for CI/CD: pipelines, jobs, deployments and environments.
 *
 * @module
 */

import type { FakeProject, JsonRecord } from "./data.ts";
import { forbidden, HttpError, notFound } from "./_http.ts";
import type { Route, RouteContext } from "./_router.ts";
import {
  inRange,
  listParam,
  orderParam,
  sorted,
  sortParam,
  timeFilters,
  timeParam,
} from "./_filters.ts";

type Rec = JsonRecord;

function requireCi(project: FakeProject): void {
  if (project.jobs_enabled === false) throw forbidden();
}

const PIPELINE_LIST_FIELDS = [
  "id",
  "iid",
  "project_id",
  "sha",
  "ref",
  "status",
  "source",
  "created_at",
  "updated_at",
  "web_url",
  "name",
];

function pick(record: Rec, fields: string[]): Rec {
  const out: Rec = {};
  for (const f of fields) out[f] = record[f];
  return out;
}

function jobScope(ctx: RouteContext, jobs: Rec[]): Rec[] {
  const scope = listParam(ctx.params, "scope");
  return scope ? jobs.filter((j) => scope.includes(String(j.status))) : jobs;
}

function findPipeline(ctx: RouteContext): Rec {
  const project = ctx.project();
  requireCi(project);
  const id = ctx.intPath("pipeline_id", "Pipeline");
  const pipeline = (ctx.store.data.pipelines.get(project.id) ?? []).find((p) => p.id === id);
  if (!pipeline) throw new HttpError(404, { message: "404 Not found" });
  return pipeline;
}

/** The project routes. */

/** The ci routes. */
export const ciRoutes: Route[] = [
  {
    pattern: "/projects/:id/pipelines",
    handler: (ctx) => {
      const project = ctx.project();
      requireCi(project);
      const { params } = ctx;
      let items = ctx.store.data.pipelines.get(project.id) ?? [];
      for (const field of ["status", "ref", "sha", "source"]) {
        const value = params.get(field);
        if (value) items = items.filter((p) => p[field] === value);
      }
      const scope = params.get("scope");
      if (scope === "running" || scope === "pending") {
        items = items.filter((p) => p.status === scope);
      }
      if (scope === "finished") {
        items = items.filter((p) => !["running", "pending", "created"].includes(p.status));
      }
      items = timeFilters(items, params);
      const order = orderParam(params, ["id", "status", "ref", "updated_at", "user_id"], "id");
      const field = order === "user_id" ? "id" : order;
      const view = (p: Rec) => pick(p, PIPELINE_LIST_FIELDS);
      return ctx.list(sorted(items, field, sortParam(params, "desc")), {}, view);
    },
  },
  { pattern: "/projects/:id/pipelines/:pipeline_id", handler: (ctx) => ctx.one(findPipeline(ctx)) },
  {
    pattern: "/projects/:id/pipelines/:pipeline_id/jobs",
    job: "readJobs",
    handler: (ctx) => {
      const pipeline = findPipeline(ctx);
      const jobs = ctx.store.data.jobs.get(pipeline.id as number) ?? [];
      return ctx.list(sorted(jobScope(ctx, jobs), "id", "asc"));
    },
  },
  {
    pattern: "/projects/:id/jobs",
    job: "readJobs",
    handler: (ctx) => {
      const project = ctx.project();
      requireCi(project);
      const jobs = sorted(jobScope(ctx, ctx.store.projectJobs(project.id)), "id", "desc");
      return ctx.keysetOrList(jobs as (Rec & { id: number })[], {
        maxOffset: ctx.maxOffset,
        typeName: "Ci::Build",
      });
    },
  },
  {
    pattern: "/projects/:id/jobs/:job_id",
    job: "readJobs",
    handler: (ctx) => {
      const project = ctx.project();
      requireCi(project);
      const id = ctx.intPath("job_id", "Job");
      const job = ctx.store.projectJobs(project.id).find((j) => j.id === id);
      if (!job) throw new HttpError(404, { message: "404 Not found" });
      return ctx.one(job);
    },
  },
  {
    pattern: "/projects/:id/deployments",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      let items = ctx.store.data.deployments.get(project.id) ?? [];
      const status = ctx.params.get("status");
      if (status) items = items.filter((d) => d.status === status);
      const environment = ctx.params.get("environment");
      if (environment) items = items.filter((d) => (d.environment as Rec).name === environment);
      items = timeFilters(items, ctx.params);
      items = inRange(
        items,
        "finished_at",
        timeParam(ctx.params, "finished_after"),
        timeParam(ctx.params, "finished_before"),
      );
      const order = orderParam(ctx.params, [
        "id",
        "iid",
        "created_at",
        "updated_at",
        "finished_at",
        "ref",
      ], "id");
      return ctx.list(sorted(items, order, sortParam(ctx.params, "asc")));
    },
  },
  {
    pattern: "/projects/:id/deployments/:deployment_id",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      const id = ctx.intPath("deployment_id", "Deployment");
      const d = (ctx.store.data.deployments.get(project.id) ?? []).find((x) => x.id === id);
      if (!d) throw notFound("");
      return ctx.one(d);
    },
  },
  {
    pattern: "/projects/:id/environments",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      let items = ctx.store.data.environments.get(project.id) ?? [];
      const name = ctx.params.get("name");
      if (name) items = items.filter((e) => e.name === name);
      const search = ctx.params.get("search");
      if (search) items = items.filter((e) => String(e.name).includes(search));
      const states = ctx.params.get("states");
      if (states) items = items.filter((e) => e.state === states);
      return ctx.list(items);
    },
  },
  {
    pattern: "/projects/:id/environments/:environment_id",
    job: "allow",
    handler: (ctx) => {
      const project = ctx.project();
      const id = ctx.intPath("environment_id", "Environment");
      const env = (ctx.store.data.environments.get(project.id) ?? []).find((e) => e.id === id);
      if (!env) throw notFound("");
      return ctx.one(env);
    },
  },
];
