/**
 * Pipelines (`pipeline_detail.json` shape) and their jobs (`jobs.json`: no `project_id`).
 *
 * @module
 */

import type { FakeData, FakeJob, FakePipeline, FakeProject } from "./data.ts";
import type { Generator } from "./_generate.ts";
import type { Random } from "./_random.ts";
import { basicUser, publicUser } from "./_users.ts";

const DAY = 86_400_000;
const PIPELINE_STATUSES = ["success", "failed", "running", "canceled", "success", "success"];

/** Adds a pipeline (with its jobs) created at `createdMs`; returns it. */
export function makePipeline(
  gen: Generator,
  data: FakeData,
  project: FakeProject,
  createdMs: number,
  jobs: number,
  rng: Random,
): FakePipeline {
  const list = data.pipelines.get(project.id) ?? [];
  data.pipelines.set(project.id, list);
  const iid = list.length ? (list[list.length - 1].iid + 1) : 1;
  const id = gen.nextId("pipeline");
  const commits = data.commits.get(project.id) ?? [];
  const commit = commits.length ? commits[iid % commits.length] : null;
  const sha = commit ? commit.id : rng.hex(40);
  const status = rng.pick(PIPELINE_STATUSES);
  const duration = rng.int(30, 900);
  const startedMs = createdMs + rng.int(1, 60) * 1000;
  const finishedMs = startedMs + duration * 1000;
  const updatedMs = Math.min(finishedMs, gen.ctx.nowMs - 1000);
  const user = rng.pick(gen.users);
  const pipeline: FakePipeline = {
    id,
    iid,
    project_id: project.id,
    name: "Build pipeline",
    sha,
    ref: "main",
    status,
    source: rng.pick(["push", "push", "web", "schedule", "merge_request_event"]),
    created_at: gen.iso(createdMs),
    updated_at: new Date(Math.max(updatedMs, createdMs)).toISOString(),
    web_url: `${project.web_url}/-/pipelines/${id}`,
    before_sha: "0000000000000000000000000000000000000000",
    tag: false,
    yaml_errors: null,
    user: basicUser(user),
    started_at: gen.iso(startedMs),
    finished_at: status === "running" ? null : gen.iso(finishedMs),
    committed_at: null,
    duration: status === "running" ? null : duration,
    queued_duration: rng.int(1, 30),
    coverage: null,
    detailed_status: {
      icon: `status_${status}`,
      text: status,
      label: status === "success" ? "passed" : status,
      group: status,
      tooltip: status,
      has_details: true,
      details_path: `/${project.path_with_namespace}/-/pipelines/${id}`,
      illustration: null,
      favicon: `/assets/ci_favicons/favicon_status_${status}.png`,
    },
  };
  list.push(pipeline);
  const stages = ["build", "test", "deploy"];
  data.jobs.set(
    id,
    Array.from({ length: jobs }, (_, j): FakeJob => {
      const jobId = gen.nextId("job");
      const jStart = startedMs + j * 5000;
      const jDuration = rng.int(5, 300) + rng.next();
      const jobStatus = status === "failed" && j === jobs - 1 ? "failed" : status;
      const stage = stages[Math.min(j, stages.length - 1)];
      return {
        commit: commit
          ? {
            id: commit.id,
            short_id: commit.short_id,
            created_at: commit.created_at,
            parent_ids: commit.parent_ids,
            title: commit.title,
            message: commit.message,
            author_name: commit.author_name,
            author_email: commit.author_email,
            authored_date: commit.authored_date,
            committer_name: commit.committer_name,
            committer_email: commit.committer_email,
            committed_date: commit.committed_date,
            trailers: {},
            extended_trailers: {},
            web_url: commit.web_url,
          }
          : null,
        coverage: null,
        archived: false,
        allow_failure: false,
        created_at: pipeline.created_at,
        started_at: gen.iso(jStart),
        finished_at: jobStatus === "running" ? null : gen.iso(jStart + jDuration * 1000),
        erased_at: null,
        duration: jobStatus === "running" ? null : Math.round(jDuration * 1000) / 1000,
        queued_duration: Math.round(rng.next() * 10_000) / 1000,
        artifacts_file: { filename: "artifacts.zip", size: 1000 + j },
        artifacts: [
          { file_type: "archive", size: 1000 + j, filename: "artifacts.zip", file_format: "zip" },
          { file_type: "trace", size: 1500, filename: "job.log", file_format: "raw" },
        ],
        artifacts_expire_at: gen.iso(jStart + 30 * DAY),
        tag_list: ["docker"],
        id: jobId,
        name: `${stage}-${j + 1}`,
        pipeline: { id, project_id: project.id, ref: "main", sha, status },
        ref: "main",
        runner: j % 2 === 0
          ? {
            id: 1 + (j % 3),
            description: `shared-runner-${1 + (j % 3)}`,
            ip_address: null,
            active: true,
            paused: false,
            is_shared: true,
            runner_type: "instance_type",
            name: "gitlab-runner",
            online: true,
            status: "online",
          }
          : null,
        runner_manager: null,
        stage,
        status: jobStatus,
        ...(jobStatus === "failed" ? { failure_reason: "script_failure" } : {}),
        tag: false,
        web_url: `${project.web_url}/-/jobs/${jobId}`,
        project: { ci_job_token_scope_enabled: false },
        user: publicUser(user),
      };
    }),
  );
  return pipeline;
}
