/**
 * The deterministic generator of {@linkcode FakeData}: users, groups, projects, then each
 * project's records. It also builds new records for the mutation helpers, so ids stay unique.
 *
 * @module
 */

import {
  DEFAULT_SIZES,
  type FakeCommit,
  type FakeData,
  type FakeGroup,
  type FakeIssue,
  type FakeMergeRequest,
  type FakePipeline,
  type FakeProject,
  type FakeSizes,
  type FakeUser,
  type JsonRecord,
} from "./data.ts";
import { Random } from "./_random.ts";
import { accessRequestOf, basicUser, makeUser, memberOf } from "./_users.ts";
import { makeInstance } from "./_instance.ts";
import { makeProject } from "./_project.ts";
import { makeCommits, makeRepository } from "./_repository.ts";
import { makeIssue, makeMergeRequest } from "./_issuables.ts";
import { makePipeline } from "./_pipelines.ts";

const DAY = 86_400_000;
const GROUP_WORDS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell"];
const PROJECT_WORDS = ["api", "web", "infra", "docs", "mobile", "data", "auth", "billing"];
const LABELS = ["bug", "feature", "documentation", "backend", "frontend", "security", "ux"];
const COLORS = ["#d9534f", "#5cb85c", "#f0ad4e", "#428bca", "#7f8c8d"];

/** What the generator needs to know besides the sizes. */
export interface GeneratorContext {
  seed: number;
  sizes: Partial<FakeSizes>;
  sizeOverrides: Record<number, Partial<FakeSizes>>;
  /** Web root, e.g. `http://127.0.0.1:8080` or `http://127.0.0.1:8080/gitlab`. */
  web: string;
  /** API root, e.g. `http://127.0.0.1:8080/api/v4`. */
  api: string;
  nowMs: number;
  issuesDisabled: ReadonlySet<number>;
  emptyRepo: ReadonlySet<number>;
  ciDisabled: ReadonlySet<number>;
}

/** Builds the dataset and, later, new records with fresh ids. */
export class Generator {
  readonly ctx: GeneratorContext;
  readonly sizes: FakeSizes;
  readonly rng: Random;
  #ids = new Map<string, number>();
  #users: FakeUser[] = [];

  constructor(ctx: GeneratorContext) {
    this.ctx = ctx;
    this.sizes = { ...DEFAULT_SIZES, ...ctx.sizes };
    this.rng = new Random(ctx.seed);
  }

  /** The next id of an entity type (ids are unique per type). */
  nextId(type: string): number {
    const id = (this.#ids.get(type) ?? 0) + 1;
    this.#ids.set(type, id);
    return id;
  }

  /** A random user's basic shape. */
  someUser(rng: Random = this.rng): JsonRecord {
    return basicUser(rng.pick(this.#users));
  }

  /** All users (administrator shape). */
  get users(): FakeUser[] {
    return this.#users;
  }

  /** `ms` as an ISO timestamp, kept strictly before the initial clock. */
  iso(ms: number): string {
    return new Date(Math.min(ms, this.ctx.nowMs - 1000)).toISOString();
  }

  /** Generates everything. */
  generate(): FakeData {
    const { nowMs, web } = this.ctx;
    const start = nowMs - 400 * DAY;
    const userCount = Math.max(1, this.sizes.users);
    for (let id = 1; id <= userCount; id++) {
      this.#users.push(makeUser(id, this.rng, web, start - (userCount - id + 30) * DAY));
    }
    const root = basicUser(this.#users[0]);
    const data: FakeData = {
      users: this.#users,
      groups: [],
      projects: [],
      issues: new Map(),
      issueNotes: new Map(),
      mergeRequests: new Map(),
      mergeRequestNotes: new Map(),
      mergeRequestCommits: new Map(),
      pipelines: new Map(),
      jobs: new Map(),
      commits: new Map(),
      branches: new Map(),
      tags: new Map(),
      releases: new Map(),
      milestones: new Map(),
      labels: new Map(),
      members: new Map(),
      deployments: new Map(),
      environments: new Map(),
      events: new Map(),
      badges: new Map(),
      accessRequests: new Map(),
      alertMetricImages: new Map(),
      groupMembers: new Map(),
      groupBadges: new Map(),
      groupAccessRequests: new Map(),
      instance: makeInstance(this.rng, web, root, nowMs),
    };
    const groupsWithProjects: FakeGroup[] = [];
    for (let g = 0; g < this.sizes.groups; g++) {
      const word = GROUP_WORDS[g % GROUP_WORDS.length];
      const path = g < GROUP_WORDS.length ? word : `${word}-${g}`;
      const top = this.#group(data, path, null, start + g * DAY);
      groupsWithProjects.push(top);
      for (let s = 0; s < this.sizes.subgroupsPerGroup; s++) {
        groupsWithProjects.push(this.#group(data, `team-${s + 1}`, top, start + (g + s) * DAY));
      }
    }
    for (const group of groupsWithProjects) {
      for (let p = 0; p < this.sizes.projectsPerGroup; p++) {
        const word = PROJECT_WORDS[p % PROJECT_WORDS.length];
        const path = p < PROJECT_WORDS.length ? word : `${word}-${p}`;
        this.#project(data, group, path);
      }
    }
    return data;
  }

  #group(data: FakeData, path: string, parent: FakeGroup | null, createdMs: number): FakeGroup {
    const id = this.nextId("group");
    const fullPath = parent ? `${parent.full_path}/${path}` : path;
    const name = path.replace(
      /(^|-)(\w)/g,
      (_m, sep: string, c: string) => (sep ? " " : "") + c.toUpperCase(),
    );
    const group: FakeGroup = {
      id,
      web_url: `${this.ctx.web}/groups/${fullPath}`,
      name,
      path,
      description: `The ${name} group`,
      visibility: "public",
      share_with_group_lock: false,
      require_two_factor_authentication: false,
      two_factor_grace_period: 48,
      project_creation_level: "developer",
      auto_devops_enabled: null,
      subgroup_creation_level: "owner",
      emails_disabled: false,
      emails_enabled: true,
      mentions_disabled: null,
      lfs_enabled: true,
      default_branch: null,
      default_branch_protection: 2,
      avatar_url: null,
      request_access_enabled: true,
      repository_storage: "default",
      full_name: parent ? `${parent.full_name} / ${name}` : name,
      full_path: fullPath,
      file_template_project_id: null,
      parent_id: parent ? parent.id : null,
      organization_id: 1,
      created_at: this.iso(createdMs),
      ip_restriction_ranges: null,
    };
    data.groups.push(group);
    const rng = new Random(this.ctx.seed * 7919 + id);
    const createdAt = group.created_at as string;
    data.groupMembers.set(
      id,
      this.#pickUsers(rng, this.sizes.membersPerProject).map((u, i) =>
        memberOf(u, i === 0 ? 50 : 30, this.#users[0], createdAt)
      ),
    );
    data.groupBadges.set(id, [this.#badge("group", `${fullPath}`)]);
    data.groupAccessRequests.set(id, [accessRequestOf(rng.pick(this.#users), createdAt)]);
    return group;
  }

  #pickUsers(rng: Random, count: number): FakeUser[] {
    const n = Math.min(count, this.#users.length);
    const first = rng.int(0, this.#users.length - 1);
    return Array.from({ length: n }, (_, i) => this.#users[(first + i) % this.#users.length]);
  }

  #badge(kind: "project" | "group", path: string): JsonRecord {
    const id = this.nextId("badge");
    return {
      name: kind === "group" ? "Pipeline" : "Coverage",
      id,
      link_url: `${this.ctx.web}/%{project_path}/-/commits/%{default_branch}`,
      image_url: `https://shields.io/badge/${kind}-${id}`,
      rendered_link_url: `${this.ctx.web}/${path}/-/commits/main`,
      rendered_image_url: `https://shields.io/badge/${kind}-${id}`,
      kind,
    };
  }

  #project(data: FakeData, group: FakeGroup, path: string): void {
    const { ctx } = this;
    const id = this.nextId("project");
    const sizes = { ...this.sizes, ...ctx.sizeOverrides[id] };
    const rng = new Random(ctx.seed * 104729 + id);
    const createdMs = Date.parse(group.created_at as string) + rng.int(1, 20) * DAY;
    const emptyRepo = ctx.emptyRepo.has(id);
    const creator = this.#users[(id - 1) % this.#users.length];
    const project = makeProject({
      id,
      group,
      path,
      web: ctx.web,
      api: ctx.api,
      rng,
      createdAt: this.iso(createdMs),
      creatorId: creator.id,
      emptyRepo,
      issuesEnabled: !ctx.issuesDisabled.has(id),
      ciEnabled: !ctx.ciDisabled.has(id),
    });
    data.projects.push(project);
    const span = Math.max(DAY, ctx.nowMs - createdMs - DAY);
    const timeAt = (i: number, n: number) => createdMs + Math.floor(((i + rng.next()) / n) * span);

    const labels = Array.from({ length: sizes.labelsPerProject }, (_, i) => {
      const name = i < LABELS.length ? LABELS[i] : `label-${i}`;
      return {
        id: this.nextId("label"),
        name,
        color: COLORS[i % COLORS.length],
        text_color: "#FFFFFF",
        description: `${name} label`,
        description_html: `${name} label`,
        open_issues_count: 0,
        closed_issues_count: 0,
        open_merge_requests_count: 0,
        subscribed: false,
        priority: i === 0 ? 10 : null,
        is_project_label: true,
        archived: false,
      };
    });
    data.labels.set(id, labels);

    const milestones = Array.from({ length: sizes.milestonesPerProject }, (_, i) => {
      const at = this.iso(timeAt(i, sizes.milestonesPerProject));
      return {
        id: this.nextId("milestone"),
        iid: i + 1,
        project_id: id,
        title: `v${i + 1}.0`,
        description: `Milestone ${i + 1}`,
        state: i === 0 && sizes.milestonesPerProject > 1 ? "closed" : "active",
        created_at: at,
        updated_at: at,
        due_date: at.slice(0, 10),
        start_date: at.slice(0, 10),
        expired: false,
        web_url: `${project.web_url}/-/milestones/${i + 1}`,
      };
    });
    data.milestones.set(id, milestones);

    const members = this.#pickUsers(rng, sizes.membersPerProject).map((u, i) =>
      memberOf(u, i === 0 ? 50 : [30, 40, 20][i % 3], this.#users[0], project.created_at)
    );
    data.members.set(id, members);
    data.badges.set(id, [this.#badge("project", project.path_with_namespace)]);
    data.accessRequests.set(id, [accessRequestOf(rng.pick(this.#users), project.created_at)]);
    data.alertMetricImages.set(`${id}/1`, [{
      id: this.nextId("metric_image"),
      created_at: project.created_at,
      filename: "graph.png",
      file_path: `/uploads/-/system/alert_metric_image/file/${id}/graph.png`,
      url: "https://grafana.example.com/d/1",
      url_text: "Grafana dashboard",
    }]);

    const commits: FakeCommit[] = emptyRepo ? [] : makeCommits(
      rng,
      sizes.commitsPerProject,
      project.web_url as string,
      this.#users,
      (i) => this.iso(timeAt(i, sizes.commitsPerProject)),
    );
    data.commits.set(id, commits);
    const repo = makeRepository({
      rng,
      commits,
      project,
      branches: emptyRepo ? 0 : sizes.branchesPerProject,
      tags: emptyRepo ? 0 : sizes.tagsPerProject,
      releases: emptyRepo ? 0 : sizes.releasesPerProject,
      milestones,
      author: () => this.someUser(rng),
      nextLinkId: () => this.nextId("release_link"),
      iso: (i, n) => this.iso(timeAt(i, n)),
    });
    data.branches.set(id, repo.branches);
    data.tags.set(id, repo.tags);
    data.releases.set(id, repo.releases);

    data.issues.set(id, []);
    for (let i = 0; i < sizes.issuesPerProject; i++) {
      this.addIssue(data, project, timeAt(i, sizes.issuesPerProject), sizes.notesPerIssue, rng);
    }
    data.mergeRequests.set(id, []);
    for (let i = 0; i < sizes.mergeRequestsPerProject; i++) {
      const n = sizes.mergeRequestsPerProject;
      this.addMergeRequest(data, project, timeAt(i, n), sizes.notesPerMergeRequest, rng);
    }
    data.pipelines.set(id, []);
    for (let i = 0; i < sizes.pipelinesPerProject; i++) {
      const n = sizes.pipelinesPerProject;
      this.addPipeline(data, project, timeAt(i, n), sizes.jobsPerPipeline, rng);
    }

    const environments = Array.from({ length: sizes.environmentsPerProject }, (_, i) => {
      const name = i === 0 ? "production" : i === 1 ? "staging" : `review/feature-${i}`;
      const at = this.iso(timeAt(i, sizes.environmentsPerProject));
      return {
        id: this.nextId("environment"),
        name,
        slug: name.replace(/\//g, "-"),
        description: null,
        external_url: `https://${name.replace(/\//g, "-")}.${path}.example.com`,
        state: "available",
        tier: i === 0 ? "production" : i === 1 ? "staging" : "development",
        created_at: at,
        updated_at: at,
        auto_stop_at: null,
        kubernetes_namespace: null,
        flux_resource_path: null,
      };
    });
    data.environments.set(id, environments);
    const projectJobs = (data.pipelines.get(id) ?? []).flatMap((p) => data.jobs.get(p.id) ?? []);
    const deployments = Array.from({
      length: environments.length ? sizes.deploymentsPerProject : 0,
    }, (_, i) => {
      const n = sizes.deploymentsPerProject;
      const createdMs = timeAt(i, n);
      const env = environments[i % environments.length];
      const job = projectJobs.length ? projectJobs[i % projectJobs.length] : null;
      const commit = commits.length ? commits[i % commits.length] : null;
      return {
        id: this.nextId("deployment"),
        iid: i + 1,
        ref: "main",
        sha: commit ? commit.id : rng.hex(40),
        created_at: this.iso(createdMs),
        updated_at: this.iso(createdMs + rng.int(1, 600) * 1000),
        status: i % 4 === 3 ? "failed" : "success",
        user: this.someUser(rng),
        deployable: job,
        environment: { id: env.id, name: env.name, external_url: env.external_url },
      };
    });
    data.deployments.set(id, deployments);

    const issues = data.issues.get(id) ?? [];
    const events = Array.from({ length: sizes.eventsPerProject }, (_, i) => {
      const author = this.someUser(rng);
      const at = this.iso(timeAt(i, sizes.eventsPerProject));
      const issue = issues.length ? issues[i % issues.length] : null;
      const push = i % 2 === 1 || !issue;
      const event: JsonRecord = {
        id: this.nextId("event"),
        title: null,
        project_id: id,
        action_name: push ? "pushed to" : "opened",
        target_id: push ? null : issue!.id,
        target_iid: push ? null : issue!.iid,
        target_type: push ? null : "Issue",
        author_id: author.id,
        target_title: push ? null : issue!.title,
        created_at: at,
        author,
        imported: false,
        imported_from: "none",
        author_username: author.username,
      };
      if (push) {
        event.push_data = {
          commit_count: 1,
          action: "pushed",
          ref_type: "branch",
          commit_from: rng.hex(40),
          commit_to: commits.length ? commits[i % commits.length].id : rng.hex(40),
          ref: "main",
          commit_title: commits.length ? commits[i % commits.length].title : "Update README.md",
          ref_count: null,
        };
      }
      return event as JsonRecord & { id: number; project_id: number; created_at: string };
    });
    data.events.set(id, events);
  }

  /** Adds an issue (and its notes) created at `createdMs`; returns it. */
  addIssue(
    data: FakeData,
    project: FakeProject,
    createdMs: number,
    notes: number,
    rng: Random = this.rng,
  ): FakeIssue {
    return makeIssue(this, data, project, createdMs, notes, rng);
  }

  /** Adds a merge request (with notes and commits) created at `createdMs`; returns it. */
  addMergeRequest(
    data: FakeData,
    project: FakeProject,
    createdMs: number,
    notes: number,
    rng: Random = this.rng,
  ): FakeMergeRequest {
    return makeMergeRequest(this, data, project, createdMs, notes, rng);
  }

  /** Adds a pipeline (with its jobs) created at `createdMs`; returns it. */
  addPipeline(
    data: FakeData,
    project: FakeProject,
    createdMs: number,
    jobs: number,
    rng: Random = this.rng,
  ): FakePipeline {
    return makePipeline(this, data, project, createdMs, jobs, rng);
  }
}
