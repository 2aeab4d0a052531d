/**
 * Repository records of a project: commits, branches, tags and releases.
 *
 * @module
 */

import type { FakeCommit, FakeProject, FakeUser, JsonRecord } from "./data.ts";
import type { Random } from "./_random.ts";

const SUBJECTS = ["Fix typo in README", "Add API client", "Refactor config", "Update deps"];

/** Builds `count` commits, returned newest first (as GitLab lists them). */
export function makeCommits(
  rng: Random,
  count: number,
  webUrl: string,
  users: FakeUser[],
  iso: (i: number) => string,
): FakeCommit[] {
  const out: FakeCommit[] = [];
  let parent: string | null = null;
  for (let i = 0; i < count; i++) {
    const sha = rng.hex(40);
    const user = rng.pick(users);
    const at = iso(i);
    const title = `${rng.pick(SUBJECTS)} (${i + 1})`;
    out.push({
      id: sha,
      short_id: sha.slice(0, 8),
      created_at: at,
      parent_ids: parent ? [parent] : [],
      title,
      message: `${title}\n`,
      author_name: user.name,
      author_email: `${user.username}@example.com`,
      authored_date: at,
      committer_name: user.name,
      committer_email: `${user.username}@example.com`,
      committed_date: at,
      trailers: {},
      extended_trailers: {},
      web_url: `${webUrl}/-/commit/${sha}`,
    });
    parent = sha;
  }
  return out.reverse();
}

/** The commit as branches, tags and releases embed it. */
function embedded(commit: FakeCommit): JsonRecord {
  const { web_url: _web, trailers: _t, extended_trailers: _e, ...rest } = commit;
  return rest;
}

/** Inputs of {@linkcode makeRepository}. */
export interface RepositoryInput {
  rng: Random;
  /** Newest first. */
  commits: FakeCommit[];
  project: FakeProject;
  branches: number;
  tags: number;
  releases: number;
  milestones: JsonRecord[];
  author: () => JsonRecord;
  nextLinkId: () => number;
  iso: (i: number, n: number) => string;
}

/** Builds branches (`main` first), tags (newest first) and releases (one per tag at most). */
export function makeRepository(input: RepositoryInput): {
  branches: JsonRecord[];
  tags: JsonRecord[];
  releases: JsonRecord[];
} {
  const { commits, project, rng } = input;
  const web = project.web_url as string;
  if (commits.length === 0) return { branches: [], tags: [], releases: [] };
  const branches = Array.from({ length: input.branches }, (_, i) => {
    const name = i === 0 ? "main" : `feature/topic-${i}`;
    return {
      name,
      commit: {
        ...embedded(commits[i % commits.length]),
        web_url: commits[i % commits.length].web_url,
      },
      merged: false,
      protected: i === 0,
      developers_can_push: false,
      developers_can_merge: false,
      can_push: true,
      default: i === 0,
      web_url: `${web}/-/tree/${name}`,
    };
  });
  const tags = Array.from({ length: input.tags }, (_, i) => {
    const commit = commits[i % commits.length];
    const name = `v1.${input.tags - 1 - i}.0`;
    return {
      name,
      message: i % 2 === 0 ? `Release ${name}` : null,
      target: commit.id,
      commit: embedded(commit),
      release: i < input.releases ? { tag_name: name, description: `Release ${name}` } : null,
      protected: false,
      created_at: i % 2 === 0 ? commit.created_at : null,
    };
  });
  const releases = tags.slice(0, input.releases).map((tag, i) => {
    const name = tag.name;
    const at = input.iso(input.releases - 1 - i, input.releases);
    const archive = `${web}/-/archive/${name}/${project.path}-${name}`;
    return {
      name: `Release ${name}`,
      tag_name: name,
      description: `## Changes\r\n\r\n- Release ${name}`,
      created_at: at,
      released_at: at,
      upcoming_release: false,
      author: input.author(),
      commit: tag.commit,
      milestones: input.milestones.slice(0, 1),
      commit_path: `/${project.path_with_namespace}/-/commit/${tag.target}`,
      tag_path: `/${project.path_with_namespace}/-/tags/${name}`,
      assets: {
        count: 5,
        sources: ["zip", "tar.gz", "tar.bz2", "tar"].map((format) => ({
          format,
          url: `${archive}.${format}`,
        })),
        links: [{
          id: input.nextLinkId(),
          name: `${project.path}-${name}.tar.gz`,
          url: `https://downloads.example.com/${project.path}/${name}`,
          direct_asset_url: `${web}/-/releases/${name}/downloads/${project.path}.tar.gz`,
          link_type: "package",
        }],
      },
      evidences: [{
        sha: rng.hex(44),
        filepath: `${web}/-/releases/${name}/evidences/1.json`,
        collected_at: at,
      }],
      _links: {
        closed_issues_url: `${web}/-/issues?release_tag=${name}&scope=all&state=closed`,
        closed_merge_requests_url:
          `${web}/-/merge_requests?release_tag=${name}&scope=all&state=closed`,
        edit_url: `${web}/-/releases/${name}/edit`,
        merged_merge_requests_url:
          `${web}/-/merge_requests?release_tag=${name}&scope=all&state=merged`,
        opened_issues_url: `${web}/-/issues?release_tag=${name}&scope=all&state=opened`,
        opened_merge_requests_url:
          `${web}/-/merge_requests?release_tag=${name}&scope=all&state=opened`,
        self: `${web}/-/releases/${name}`,
      },
    };
  });
  return { branches, tags, releases };
}
