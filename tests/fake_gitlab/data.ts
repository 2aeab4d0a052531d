/**
 * The fake GitLab's dataset: its types, its size options and their defaults. Records are
 * plain objects in GitLab's response shapes (see `tests/testdata/reference/gitlab-samples`),
 * grouped per parent in `Map`s, so tests can compute the counts they expect.
 *
 * @module
 */

/** A JSON object as GitLab returns it. */
export type JsonRecord = { [key: string]: unknown };

/** How many records of each kind the generator creates. */
export interface FakeSizes {
  /** Top-level groups. @default {2} */
  groups: number;
  /** Subgroups under each top-level group. @default {1} */
  subgroupsPerGroup: number;
  /** Projects in each group, subgroups included. @default {3} */
  projectsPerGroup: number;
  /** @default {5} */
  issuesPerProject: number;
  /** @default {2} */
  notesPerIssue: number;
  /** @default {3} */
  mergeRequestsPerProject: number;
  /** @default {2} */
  notesPerMergeRequest: number;
  /** @default {3} */
  pipelinesPerProject: number;
  /** @default {2} */
  jobsPerPipeline: number;
  /** @default {5} */
  commitsPerProject: number;
  /** Branches, `main` included. @default {2} */
  branchesPerProject: number;
  /** @default {2} */
  tagsPerProject: number;
  /** @default {1} */
  releasesPerProject: number;
  /** @default {2} */
  milestonesPerProject: number;
  /** @default {3} */
  labelsPerProject: number;
  /** Members of each project and of each group. @default {3} */
  membersPerProject: number;
  /** @default {2} */
  deploymentsPerProject: number;
  /** @default {2} */
  environmentsPerProject: number;
  /** @default {5} */
  eventsPerProject: number;
  /** Users of the instance; user 1 is `root`, an administrator. @default {5} */
  users: number;
}

/** The default sizes: a small instance that serves every endpoint. */
export const DEFAULT_SIZES: Readonly<FakeSizes> = Object.freeze({
  groups: 2,
  subgroupsPerGroup: 1,
  projectsPerGroup: 3,
  issuesPerProject: 5,
  notesPerIssue: 2,
  mergeRequestsPerProject: 3,
  notesPerMergeRequest: 2,
  pipelinesPerProject: 3,
  jobsPerPipeline: 2,
  commitsPerProject: 5,
  branchesPerProject: 2,
  tagsPerProject: 2,
  releasesPerProject: 1,
  milestonesPerProject: 2,
  labelsPerProject: 3,
  membersPerProject: 3,
  deploymentsPerProject: 2,
  environmentsPerProject: 2,
  eventsPerProject: 5,
  users: 5,
});

/** A user in the administrator's shape (`users.json`). */
export interface FakeUser extends JsonRecord {
  id: number;
  username: string;
  name: string;
  is_admin: boolean;
}

/** A group or subgroup (`groups.json`). */
export interface FakeGroup extends JsonRecord {
  id: number;
  parent_id: number | null;
  full_path: string;
  name: string;
}

/** A project in the single-project shape (`project_detail.json`). */
export interface FakeProject extends JsonRecord {
  id: number;
  path_with_namespace: string;
  namespace: { id: number; full_path: string; [key: string]: unknown };
  visibility: "private" | "internal" | "public";
  archived: boolean;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
}

/** An issue (`issues.json`). */
export interface FakeIssue extends JsonRecord {
  id: number;
  iid: number;
  project_id: number;
  state: "opened" | "closed";
  created_at: string;
  updated_at: string;
}

/** A merge request (`merge_requests.json`). */
export interface FakeMergeRequest extends JsonRecord {
  id: number;
  iid: number;
  project_id: number;
  state: "opened" | "closed" | "merged" | "locked";
  created_at: string;
  updated_at: string;
}

/** A note on an issue or a merge request (`notes.json`). */
export interface FakeNote extends JsonRecord {
  id: number;
  noteable_id: number;
  noteable_iid: number;
  noteable_type: "Issue" | "MergeRequest";
  project_id: number;
  created_at: string;
  updated_at: string;
}

/** A pipeline in the single-pipeline shape (`pipeline_detail.json`); lists show fewer fields. */
export interface FakePipeline extends JsonRecord {
  id: number;
  iid: number;
  project_id: number;
  status: string;
  created_at: string;
  updated_at: string;
}

/** A job (`jobs.json`): no `project_id`, only `pipeline.project_id`. */
export interface FakeJob extends JsonRecord {
  id: number;
  pipeline: { id: number; project_id: number; ref: string; sha: string; status: string };
  created_at: string;
}

/** A commit (`commits.json`): no `project_id`. */
export interface FakeCommit extends JsonRecord {
  id: string;
  short_id: string;
  committed_date: string;
  created_at: string;
}

/** A deployment (`deployments.json`). */
export interface FakeDeployment extends JsonRecord {
  id: number;
  iid: number;
  created_at: string;
  updated_at: string;
}

/** An event (`events.json`). */
export interface FakeEvent extends JsonRecord {
  id: number;
  project_id: number;
  created_at: string;
}

/** Instance-level records behind the admin and application endpoints. */
export interface FakeInstanceData {
  appearance: JsonRecord;
  applications: JsonRecord[];
  batchedBackgroundMigrations: JsonRecord[];
  broadcastMessages: JsonRecord[];
  bulkImports: JsonRecord[];
  bulkImportEntities: JsonRecord[];
  ciVariables: JsonRecord[];
  clusters: JsonRecord[];
  metadata: JsonRecord;
  version: JsonRecord;
  planLimits: JsonRecord;
}

/**
 * The whole dataset. Project-scoped collections are keyed by project id, notes and merge
 * request commits by the parent's global id, jobs by pipeline id, group collections by group
 * id. Lists keep GitLab's storage order (ascending ids, commits newest first); the server
 * sorts and filters per request.
 */
export interface FakeData {
  users: FakeUser[];
  groups: FakeGroup[];
  projects: FakeProject[];
  issues: Map<number, FakeIssue[]>;
  issueNotes: Map<number, FakeNote[]>;
  mergeRequests: Map<number, FakeMergeRequest[]>;
  mergeRequestNotes: Map<number, FakeNote[]>;
  /** Commit SHAs of each merge request, by merge request id. */
  mergeRequestCommits: Map<number, string[]>;
  pipelines: Map<number, FakePipeline[]>;
  jobs: Map<number, FakeJob[]>;
  commits: Map<number, FakeCommit[]>;
  branches: Map<number, JsonRecord[]>;
  tags: Map<number, JsonRecord[]>;
  releases: Map<number, JsonRecord[]>;
  milestones: Map<number, JsonRecord[]>;
  labels: Map<number, JsonRecord[]>;
  members: Map<number, JsonRecord[]>;
  deployments: Map<number, FakeDeployment[]>;
  environments: Map<number, JsonRecord[]>;
  events: Map<number, FakeEvent[]>;
  badges: Map<number, JsonRecord[]>;
  accessRequests: Map<number, JsonRecord[]>;
  /** Metric images keyed by `"<project id>/<alert iid>"`. */
  alertMetricImages: Map<string, JsonRecord[]>;
  groupMembers: Map<number, JsonRecord[]>;
  groupBadges: Map<number, JsonRecord[]>;
  groupAccessRequests: Map<number, JsonRecord[]>;
  instance: FakeInstanceData;
}

/**
 * All records of a keyed collection in one array.
 *
 * @example
 * ```ts
 * const total = all(gitlab.data.issues).length;
 * ```
 */
export function all<T>(collection: Map<unknown, T[]>): T[] {
  const out: T[] = [];
  for (const items of collection.values()) for (const item of items) out.push(item);
  return out;
}
