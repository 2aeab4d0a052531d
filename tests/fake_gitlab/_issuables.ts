/**
 * Issues and merge requests with their notes (and merge request commits), in GitLab's list
 * shapes (`issues.json`, `merge_requests.json`, `notes.json`).
 *
 * @module
 */

import type { FakeData, FakeIssue, FakeMergeRequest, FakeNote, FakeProject } from "./data.ts";
import type { Generator } from "./_generate.ts";
import type { Random } from "./_random.ts";

/** Adds an issue (and its notes) created at `createdMs`; returns it. */
export function makeIssue(
  gen: Generator,
  data: FakeData,
  project: FakeProject,
  createdMs: number,
  notes: number,
  rng: Random,
): FakeIssue {
  const list = data.issues.get(project.id) ?? [];
  data.issues.set(project.id, list);
  const iid = list.length ? (list[list.length - 1].iid + 1) : 1;
  const id = gen.nextId("issue");
  const closed = rng.chance(0.3);
  const updatedMs = Math.min(createdMs + rng.int(0, 30 * 24) * 3_600_000, gen.ctx.nowMs - 1000);
  const author = gen.someUser(rng);
  const assignee = rng.chance(0.6) ? gen.someUser(rng) : null;
  const labels = data.labels.get(project.id) ?? [];
  const milestones = data.milestones.get(project.id) ?? [];
  const milestone = milestones.length && rng.chance(0.5) ? rng.pick(milestones) : null;
  const created = gen.iso(createdMs);
  const updated = new Date(Math.max(updatedMs, createdMs)).toISOString();
  const ref = project.path_with_namespace;
  const issue: FakeIssue = {
    id,
    iid,
    project_id: project.id,
    title: `Issue ${iid} of ${project.path}`,
    description: `Description of issue ${iid}.`,
    state: closed ? "closed" : "opened",
    created_at: created,
    updated_at: updated,
    closed_at: closed ? updated : null,
    closed_by: closed ? author : null,
    labels: labels.length ? [rng.pick(labels).name] : [],
    milestone,
    assignees: assignee ? [assignee] : [],
    author,
    type: "ISSUE",
    assignee,
    user_notes_count: notes,
    merge_requests_count: 0,
    upvotes: rng.int(0, 3),
    downvotes: 0,
    due_date: null,
    confidential: false,
    discussion_locked: null,
    issue_type: "issue",
    web_url: `${project.web_url}/-/issues/${iid}`,
    time_stats: {
      time_estimate: 0,
      total_time_spent: 0,
      human_time_estimate: null,
      human_total_time_spent: null,
    },
    task_completion_status: { count: 0, completed_count: 0 },
    blocking_issues_count: 0,
    has_tasks: false,
    _links: {
      self: `${gen.ctx.api}/projects/${project.id}/issues/${iid}`,
      notes: `${gen.ctx.api}/projects/${project.id}/issues/${iid}/notes`,
      award_emoji: `${gen.ctx.api}/projects/${project.id}/issues/${iid}/award_emoji`,
      project: `${gen.ctx.api}/projects/${project.id}`,
      closed_as_duplicate_of: null,
    },
    references: { short: `#${iid}`, relative: `#${iid}`, full: `${ref}#${iid}` },
    severity: "UNKNOWN",
    moved_to_id: null,
    imported: false,
    imported_from: "none",
    service_desk_reply_to: null,
  };
  list.push(issue);
  data.issueNotes.set(id, makeNotes(gen, project.id, issue, "Issue", notes, rng));
  return issue;
}

function makeNotes(
  gen: Generator,
  projectId: number,
  parent: { id: number; iid: number; created_at: string; updated_at: string },
  type: "Issue" | "MergeRequest",
  count: number,
  rng: Random,
): FakeNote[] {
  const from = Date.parse(parent.created_at);
  const to = Date.parse(parent.updated_at);
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(from + Math.floor(((i + 1) / (count + 1)) * (to - from))).toISOString();
    const system = i % 3 === 2;
    return {
      id: gen.nextId("note"),
      type: null,
      body: system ? "changed the description" : `Comment ${i + 1} on ${type} ${parent.iid}`,
      attachment: null,
      author: gen.someUser(rng),
      created_at: at,
      updated_at: at,
      system,
      noteable_id: parent.id,
      noteable_type: type,
      project_id: projectId,
      resolvable: false,
      confidential: false,
      internal: false,
      imported: false,
      imported_from: "none",
      noteable_iid: parent.iid,
      commands_changes: {},
    };
  });
}

/** Adds a merge request (with notes and commits) created at `createdMs`; returns it. */
export function makeMergeRequest(
  gen: Generator,
  data: FakeData,
  project: FakeProject,
  createdMs: number,
  notes: number,
  rng: Random,
): FakeMergeRequest {
  const list = data.mergeRequests.get(project.id) ?? [];
  data.mergeRequests.set(project.id, list);
  const iid = list.length ? (list[list.length - 1].iid + 1) : 1;
  const id = gen.nextId("merge_request");
  const state = rng.pick(["opened", "merged", "merged", "closed"] as const);
  const updatedMs = Math.min(createdMs + rng.int(1, 10 * 24) * 3_600_000, gen.ctx.nowMs - 1000);
  const created = gen.iso(createdMs);
  const updated = new Date(Math.max(updatedMs, createdMs)).toISOString();
  const author = gen.someUser(rng);
  const reviewer = gen.someUser(rng);
  const commits = data.commits.get(project.id) ?? [];
  const shas = commits.length
    ? Array.from(
      { length: Math.min(commits.length, 1 + (iid % 3)) },
      (_, k) => commits[(iid + k) % commits.length].id,
    )
    : [];
  const milestones = data.milestones.get(project.id) ?? [];
  const ref = project.path_with_namespace;
  const merged = state === "merged";
  const mr: FakeMergeRequest = {
    id,
    iid,
    project_id: project.id,
    title: `Merge request ${iid} of ${project.path}`,
    description: `Changes for !${iid}.`,
    state,
    created_at: created,
    updated_at: updated,
    merged_by: merged ? reviewer : null,
    merge_user: merged ? reviewer : null,
    merged_at: merged ? updated : null,
    merge_after: null,
    prepared_at: created,
    closed_by: state === "closed" ? author : null,
    closed_at: state === "closed" ? updated : null,
    target_branch: "main",
    source_branch: `feature/mr-${iid}`,
    user_notes_count: notes,
    upvotes: 0,
    downvotes: 0,
    author,
    assignees: [author],
    assignee: author,
    reviewers: [reviewer],
    source_project_id: project.id,
    target_project_id: project.id,
    labels: [],
    draft: false,
    imported: false,
    imported_from: "none",
    work_in_progress: false,
    milestone: milestones.length ? milestones[iid % milestones.length] : null,
    merge_when_pipeline_succeeds: false,
    merge_status: "can_be_merged",
    detailed_merge_status: state === "opened" ? "mergeable" : "not_open",
    sha: shas[0] ?? rng.hex(40),
    merge_commit_sha: merged ? rng.hex(40) : null,
    squash_commit_sha: null,
    discussion_locked: null,
    should_remove_source_branch: null,
    force_remove_source_branch: true,
    prepared: true,
    reference: `!${iid}`,
    references: { short: `!${iid}`, relative: `!${iid}`, full: `${ref}!${iid}` },
    web_url: `${project.web_url}/-/merge_requests/${iid}`,
    time_stats: {
      time_estimate: 0,
      total_time_spent: 0,
      human_time_estimate: null,
      human_total_time_spent: null,
    },
    squash: false,
    squash_on_merge: false,
    task_completion_status: { count: 0, completed_count: 0 },
    has_conflicts: false,
    blocking_discussions_resolved: true,
  };
  list.push(mr);
  data.mergeRequestNotes.set(id, makeNotes(gen, project.id, mr, "MergeRequest", notes, rng));
  data.mergeRequestCommits.set(id, shas);
  return mr;
}
