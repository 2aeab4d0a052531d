/**
 * The dataset with its lookups (by id or path), visibility rules and mutation helpers.
 *
 * @module
 */

import type {
  FakeData,
  FakeGroup,
  FakeIssue,
  FakeMergeRequest,
  FakePipeline,
  FakeProject,
  FakeUser,
  JsonRecord,
} from "./data.ts";
import type { FakeClock } from "./clock.ts";
import type { Generator } from "./_generate.ts";
import type { Principal } from "./_auth.ts";

/** The dataset and everything that reads or changes it. */
export class Store {
  data: FakeData;
  readonly clock: FakeClock;
  readonly generator: Generator;
  #projects = new Map<string, FakeProject>();
  #groups = new Map<string, FakeGroup>();
  #users = new Map<number, FakeUser>();
  #children = new Map<number, FakeGroup[]>();

  constructor(data: FakeData, generator: Generator, clock: FakeClock) {
    this.data = data;
    this.generator = generator;
    this.clock = clock;
    this.reindex();
  }

  /** Rebuilds the lookups after `data` was changed directly. */
  reindex(): void {
    this.#projects.clear();
    this.#groups.clear();
    this.#users.clear();
    this.#children.clear();
    for (const p of this.data.projects) {
      this.#projects.set(String(p.id), p);
      this.#projects.set(p.path_with_namespace, p);
    }
    for (const g of this.data.groups) {
      this.#groups.set(String(g.id), g);
      this.#groups.set(g.full_path, g);
      if (g.parent_id !== null) {
        const list = this.#children.get(g.parent_id) ?? [];
        list.push(g);
        this.#children.set(g.parent_id, list);
      }
    }
    for (const u of this.data.users) this.#users.set(u.id, u);
  }

  /** A user by id. */
  user(id: number): FakeUser | undefined {
    return this.#users.get(id);
  }

  /** A project by id or full path (already percent-decoded). */
  project(ref: string): FakeProject | undefined {
    return this.#projects.get(ref);
  }

  /** A group by id or full path. */
  group(ref: string): FakeGroup | undefined {
    return this.#groups.get(ref);
  }

  /** Direct subgroups. */
  subgroups(groupId: number): FakeGroup[] {
    return this.#children.get(groupId) ?? [];
  }

  /** All descendant groups, depth first. */
  descendants(groupId: number): FakeGroup[] {
    const out: FakeGroup[] = [];
    for (const child of this.subgroups(groupId)) out.push(child, ...this.descendants(child.id));
    return out;
  }

  /** The group and its ancestors. */
  lineage(group: FakeGroup | undefined): FakeGroup[] {
    const out: FakeGroup[] = [];
    while (group) {
      out.push(group);
      group = group.parent_id === null ? undefined : this.group(String(group.parent_id));
    }
    return out;
  }

  /** Whether `userId` is a member of the project directly or through its groups. */
  isMember(userId: number, project: FakeProject): boolean {
    if ((this.data.members.get(project.id) ?? []).some((m) => m.id === userId)) return true;
    return this.lineage(this.group(String(project.namespace.id)))
      .some((g) => (this.data.groupMembers.get(g.id) ?? []).some((m) => m.id === userId));
  }

  /** The access level of `userId` on the project (0 when none). */
  accessLevel(userId: number, project: FakeProject): number {
    const direct = (this.data.members.get(project.id) ?? []).find((m) => m.id === userId);
    let level = direct ? Number(direct.access_level) : 0;
    for (const g of this.lineage(this.group(String(project.namespace.id)))) {
      const member = (this.data.groupMembers.get(g.id) ?? []).find((m) => m.id === userId);
      if (member) level = Math.max(level, Number(member.access_level));
    }
    return level;
  }

  /** Whether the caller may see the project (admins all; others public, internal, member). */
  canSee(principal: Principal, project: FakeProject): boolean {
    if (principal.kind === "job") return principal.projects.has(project.id);
    if (principal.admin || project.visibility !== "private") return true;
    return this.isMember(principal.user.id, project);
  }

  /** The projects of a group, with those of its descendants when asked. */
  groupProjects(group: FakeGroup, includeSubgroups: boolean): FakeProject[] {
    const ids = new Set([
      group.id,
      ...(includeSubgroups ? this.descendants(group.id).map((g) => g.id) : []),
    ]);
    return this.data.projects.filter((p) => ids.has(p.namespace.id));
  }

  /** Every job of a project (GitLab lists them by id, newest first). */
  projectJobs(projectId: number): JsonRecord[] {
    const out: JsonRecord[] = [];
    for (const pipeline of this.data.pipelines.get(projectId) ?? []) {
      out.push(...(this.data.jobs.get(pipeline.id) ?? []));
    }
    return out;
  }

  #requireProject(projectId: number): FakeProject {
    const project = this.project(String(projectId));
    if (!project) throw new Error(`Cannot find project "${projectId}" in the fake data`);
    return project;
  }

  #touch(project: FakeProject, stamp: string): void {
    if (stamp > project.last_activity_at) project.last_activity_at = stamp;
  }

  #update<T extends { updated_at: string }>(
    project: FakeProject,
    record: T | undefined,
    what: string,
    patch: Partial<T>,
  ): T {
    if (!record) throw new Error(`Cannot find ${what} in project "${project.id}" of the fake data`);
    const stamp = this.clock.tick(record.updated_at);
    Object.assign(record, { updated_at: stamp }, patch);
    this.#touch(project, record.updated_at);
    return record;
  }

  /** Patches an issue and bumps its `updated_at` past its old value and the clock. */
  updateIssue(projectId: number, iid: number, patch: Partial<FakeIssue> = {}): FakeIssue {
    const project = this.#requireProject(projectId);
    const issue = (this.data.issues.get(projectId) ?? []).find((i) => i.iid === iid);
    return this.#update(project, issue, `issue "${iid}"`, patch);
  }

  /** Adds an open issue created now (by the clock). */
  addIssue(projectId: number, patch: Partial<FakeIssue> = {}): FakeIssue {
    const project = this.#requireProject(projectId);
    const issue = this.generator.addIssue(this.data, project, this.clock.now(), 0);
    const stamp = this.clock.tick();
    Object.assign(issue, {
      created_at: stamp,
      updated_at: stamp,
      state: "opened",
      closed_at: null,
      closed_by: null,
    }, patch);
    this.#touch(project, stamp);
    return issue;
  }

  /** Removes an issue and its notes (GitLab keeps no tombstone). */
  deleteIssue(projectId: number, iid: number): void {
    const list = this.data.issues.get(projectId) ?? [];
    const index = list.findIndex((i) => i.iid === iid);
    if (index < 0) {
      throw new Error(`Cannot find issue "${iid}" in project "${projectId}" of the fake data`);
    }
    const [issue] = list.splice(index, 1);
    this.data.issueNotes.delete(issue.id);
  }

  /** Patches a merge request and bumps its `updated_at`. */
  updateMergeRequest(
    projectId: number,
    iid: number,
    patch: Partial<FakeMergeRequest> = {},
  ): FakeMergeRequest {
    const project = this.#requireProject(projectId);
    const mr = (this.data.mergeRequests.get(projectId) ?? []).find((m) => m.iid === iid);
    return this.#update(project, mr, `merge request "${iid}"`, patch);
  }

  /** Adds an open merge request created now. */
  addMergeRequest(projectId: number, patch: Partial<FakeMergeRequest> = {}): FakeMergeRequest {
    const project = this.#requireProject(projectId);
    const mr = this.generator.addMergeRequest(this.data, project, this.clock.now(), 0);
    const stamp = this.clock.tick();
    Object.assign(mr, {
      created_at: stamp,
      updated_at: stamp,
      state: "opened",
      merged_at: null,
      merged_by: null,
      merge_user: null,
      closed_at: null,
      closed_by: null,
    }, patch);
    this.#touch(project, stamp);
    return mr;
  }

  /** Removes a merge request with its notes and commits. */
  deleteMergeRequest(projectId: number, iid: number): void {
    const list = this.data.mergeRequests.get(projectId) ?? [];
    const index = list.findIndex((m) => m.iid === iid);
    if (index < 0) {
      throw new Error(
        `Cannot find merge request "${iid}" in project "${projectId}" of the fake data`,
      );
    }
    const [mr] = list.splice(index, 1);
    this.data.mergeRequestNotes.delete(mr.id);
    this.data.mergeRequestCommits.delete(mr.id);
  }

  /** Patches a pipeline (by id) and bumps its `updated_at`. */
  updatePipeline(
    projectId: number,
    pipelineId: number,
    patch: Partial<FakePipeline> = {},
  ): FakePipeline {
    const project = this.#requireProject(projectId);
    const pipeline = (this.data.pipelines.get(projectId) ?? []).find((p) => p.id === pipelineId);
    const updated = this.#update(project, pipeline, `pipeline "${pipelineId}"`, patch);
    if (patch.status) {
      for (const job of this.data.jobs.get(pipelineId) ?? []) job.pipeline.status = patch.status;
    }
    return updated;
  }

  /** Adds a running pipeline created now, with `jobsPerPipeline` jobs. */
  addPipeline(projectId: number, patch: Partial<FakePipeline> = {}): FakePipeline {
    const project = this.#requireProject(projectId);
    const pipeline = this.generator.addPipeline(
      this.data,
      project,
      this.clock.now(),
      this.generator.sizes.jobsPerPipeline,
    );
    const stamp = this.clock.tick();
    Object.assign(pipeline, { created_at: stamp, updated_at: stamp }, patch);
    for (const job of this.data.jobs.get(pipeline.id) ?? []) {
      job.created_at = stamp;
      job.pipeline.status = pipeline.status;
    }
    this.#touch(project, stamp);
    return pipeline;
  }
}
