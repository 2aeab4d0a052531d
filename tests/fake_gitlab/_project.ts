/**
 * The project record (`project_detail.json` shape) and the reduced shapes GitLab serves.
 *
 * @module
 */

import type { FakeGroup, FakeProject, JsonRecord } from "./data.ts";
import type { Random } from "./_random.ts";

/** Inputs of {@linkcode makeProject}. */
export interface ProjectInput {
  id: number;
  group: FakeGroup;
  path: string;
  web: string;
  api: string;
  rng: Random;
  createdAt: string;
  creatorId: number;
  emptyRepo: boolean;
  issuesEnabled: boolean;
  ciEnabled: boolean;
}

const VISIBILITIES = ["private", "internal", "public"] as const;

/** Builds a project in the single-project shape. */
export function makeProject(input: ProjectInput): FakeProject {
  const { id, group, path, web, api, rng, createdAt } = input;
  const fullPath = `${group.full_path}/${path}`;
  const name = path.charAt(0).toUpperCase() + path.slice(1);
  const webUrl = `${web}/${fullPath}`;
  const host = new URL(web).host;
  const enabled = (on: boolean) => (on ? "enabled" : "disabled");
  return {
    id,
    description: `The ${name} project of ${group.name}`,
    description_html: `<p>The ${name} project of ${group.name}</p>`,
    name,
    name_with_namespace: `${group.full_name} / ${name}`,
    path,
    path_with_namespace: fullPath,
    created_at: createdAt,
    updated_at: createdAt,
    default_branch: input.emptyRepo ? null : "main",
    tag_list: [],
    topics: id % 2 === 0 ? ["backend"] : [],
    ssh_url_to_repo: `git@${host}:${fullPath}.git`,
    http_url_to_repo: `${webUrl}.git`,
    web_url: webUrl,
    readme_url: input.emptyRepo ? null : `${webUrl}/-/blob/main/README.md`,
    forks_count: 0,
    avatar_url: null,
    star_count: rng.int(0, 20),
    last_activity_at: createdAt,
    namespace: {
      id: group.id,
      name: group.name as string,
      path: group.path as string,
      kind: "group",
      full_path: group.full_path,
      parent_id: group.parent_id,
      avatar_url: null,
      web_url: group.web_url as string,
    },
    container_registry_image_prefix: `registry.${host.split(":")[0]}/${fullPath}`,
    _links: {
      self: `${api}/projects/${id}`,
      issues: `${api}/projects/${id}/issues`,
      merge_requests: `${api}/projects/${id}/merge_requests`,
      repo_branches: `${api}/projects/${id}/repository/branches`,
      labels: `${api}/projects/${id}/labels`,
      events: `${api}/projects/${id}/events`,
      members: `${api}/projects/${id}/members`,
      cluster_agents: `${api}/projects/${id}/cluster_agents`,
    },
    packages_enabled: true,
    empty_repo: input.emptyRepo,
    archived: id % 10 === 0,
    visibility: VISIBILITIES[id % 3],
    resolve_outdated_diff_discussions: false,
    container_expiration_policy: {
      cadence: "1d",
      enabled: false,
      keep_n: 10,
      older_than: "90d",
      name_regex: ".*",
      name_regex_keep: null,
      next_run_at: createdAt,
    },
    repository_object_format: "sha1",
    issues_enabled: input.issuesEnabled,
    merge_requests_enabled: true,
    wiki_enabled: true,
    jobs_enabled: input.ciEnabled,
    snippets_enabled: true,
    container_registry_enabled: true,
    service_desk_enabled: false,
    service_desk_address: null,
    can_create_merge_request_in: true,
    issues_access_level: enabled(input.issuesEnabled),
    repository_access_level: "enabled",
    merge_requests_access_level: "enabled",
    forking_access_level: "enabled",
    wiki_access_level: "enabled",
    builds_access_level: enabled(input.ciEnabled),
    snippets_access_level: "enabled",
    pages_access_level: "private",
    analytics_access_level: "enabled",
    container_registry_access_level: "enabled",
    security_and_compliance_access_level: "private",
    releases_access_level: "enabled",
    environments_access_level: "enabled",
    feature_flags_access_level: "enabled",
    infrastructure_access_level: "enabled",
    monitor_access_level: "enabled",
    model_experiments_access_level: "enabled",
    model_registry_access_level: "enabled",
    emails_disabled: false,
    emails_enabled: true,
    shared_runners_enabled: true,
    lfs_enabled: true,
    creator_id: input.creatorId,
    import_url: null,
    import_type: null,
    import_status: "none",
    import_error: null,
    open_issues_count: 0,
    description_html_version: 1,
    ci_default_git_depth: 20,
    ci_forward_deployment_enabled: true,
    ci_forward_deployment_rollback_allowed: true,
    ci_job_token_scope_enabled: false,
    ci_separated_caches: true,
    ci_allow_fork_pipelines_to_run_in_parent_project: true,
    ci_id_token_sub_claim_components: ["project_path", "ref_type", "ref"],
    build_git_strategy: "fetch",
    keep_latest_artifact: true,
    restrict_user_defined_variables: false,
    ci_pipeline_variables_minimum_override_role: "developer",
    runners_token: null,
    runner_token_expiration_interval: null,
    group_runners_enabled: true,
    auto_cancel_pending_pipelines: "enabled",
    build_timeout: 3600,
    auto_devops_enabled: false,
    auto_devops_deploy_strategy: "continuous",
    ci_config_path: "",
    public_jobs: true,
    shared_with_groups: [],
    only_allow_merge_if_pipeline_succeeds: false,
    allow_merge_on_skipped_pipeline: null,
    request_access_enabled: true,
    only_allow_merge_if_all_discussions_are_resolved: false,
    remove_source_branch_after_merge: true,
    printing_merge_request_link_enabled: true,
    merge_method: "merge",
    squash_option: "default_off",
    enforce_auth_checks_on_uploads: true,
    suggestion_commit_message: null,
    merge_commit_template: null,
    squash_commit_template: null,
    issue_branch_template: null,
    warn_about_potentially_unwanted_characters: true,
    autoclose_referenced_issues: true,
    max_artifacts_size: null,
    approvals_before_merge: 0,
    mirror: false,
    external_authorization_classification_label: "",
    requirements_enabled: false,
    requirements_access_level: "enabled",
    security_and_compliance_enabled: true,
    secret_push_protection_enabled: false,
    compliance_frameworks: [],
    marked_for_deletion_at: null,
    marked_for_deletion_on: null,
    statistics: {
      commit_count: 0,
      storage_size: 1038090 + id,
      repository_size: 1038090 + id,
      wiki_size: 0,
      lfs_objects_size: 0,
      job_artifacts_size: 0,
      pipeline_artifacts_size: 0,
      packages_size: 0,
      snippets_size: 0,
      uploads_size: 0,
      container_registry_size: 0,
    },
    permissions: {
      project_access: null,
      group_access: { access_level: 50, notification_level: 3 },
    },
  };
}

const SIMPLE_FIELDS = [
  "id",
  "description",
  "name",
  "name_with_namespace",
  "path",
  "path_with_namespace",
  "created_at",
  "default_branch",
  "tag_list",
  "topics",
  "ssh_url_to_repo",
  "http_url_to_repo",
  "web_url",
  "readme_url",
  "forks_count",
  "avatar_url",
  "star_count",
  "last_activity_at",
  "visibility",
  "namespace",
  "container_registry_image_prefix",
  "_links",
];

/**
 * The project as a list or single GET returns it: `statistics` only when asked for,
 * `simple=true` keeps the basic fields, non-members lose `permissions`' group access.
 */
export function projectView(
  project: FakeProject,
  options: { simple: boolean; statistics: boolean; commitCount: number },
): JsonRecord {
  if (options.simple) {
    const out: JsonRecord = {};
    for (const key of SIMPLE_FIELDS) out[key] = project[key];
    return out;
  }
  const { statistics, ...rest } = project;
  if (!options.statistics) return rest;
  return {
    ...rest,
    statistics: { ...(statistics as JsonRecord), commit_count: options.commitCount },
  };
}
