/**
 * Who is calling: personal/OAuth tokens (`PRIVATE-TOKEN`, `Authorization: Bearer`,
 * `private_token`, `access_token`) and the CI job token (`JOB-TOKEN`, `job_token`, Bearer).
 *
 * @module
 */

import type { FakeUser } from "./data.ts";

/** A personal access token's owner. */
export interface TokenInfo {
  /** The user id the token belongs to. */
  user: number;
  /** Whether that user is an administrator. @default {false} */
  admin?: boolean;
}

/** The CI job token and what it may reach (gitlab.md §3). */
export interface JobTokenOptions {
  /** The `CI_JOB_TOKEN` value. */
  token: string;
  /** The project whose job runs. @default {1} */
  projectId?: number;
  /** The user who triggered the job. @default {1} */
  user?: number;
  /** Other projects whose allowlist includes the job's project. @default {[]} */
  allowedProjects?: number[];
  /** Fine-grained `READ_JOBS` permission: project and pipeline job lists. @default {false} */
  readJobs?: boolean;
}

/** The authenticated caller. */
export type Principal =
  | { kind: "user"; user: FakeUser; admin: boolean; token: string }
  | {
    kind: "job";
    user: FakeUser;
    token: string;
    projectId: number;
    projects: ReadonlySet<number>;
    readJobs: boolean;
  };

/** The credential found on a request, and where. */
interface Credential {
  value: string;
  accepts: "pat" | "job" | "any";
}

function credential(request: Request, url: URL): Credential | undefined {
  const header = (name: string) => request.headers.get(name);
  const priv = header("private-token");
  if (priv !== null) return { value: priv, accepts: "pat" };
  const job = header("job-token");
  if (job !== null) return { value: job, accepts: "job" };
  const authorization = header("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return { value: match ? match[1] : "", accepts: "any" };
  }
  for (
    const [name, accepts] of [["private_token", "pat"], ["access_token", "pat"], [
      "job_token",
      "job",
    ]] as const
  ) {
    const value = url.searchParams.get(name);
    if (value !== null) return { value, accepts };
  }
  return undefined;
}

/** Resolves the caller; `undefined` when no credential was sent, `null` when it is invalid. */
export function authenticate(
  request: Request,
  url: URL,
  tokens: Record<string, TokenInfo>,
  jobToken: JobTokenOptions | undefined,
  userById: (id: number) => FakeUser | undefined,
): Principal | null | undefined {
  const found = credential(request, url);
  if (!found) return undefined;
  if (found.accepts !== "job" && Object.hasOwn(tokens, found.value)) {
    const info = tokens[found.value];
    const user = userById(info.user);
    if (!user) return null;
    return { kind: "user", user, admin: info.admin ?? false, token: found.value };
  }
  if (found.accepts !== "pat" && jobToken && found.value === jobToken.token) {
    const user = userById(jobToken.user ?? 1);
    if (!user) return null;
    const projectId = jobToken.projectId ?? 1;
    return {
      kind: "job",
      user,
      token: found.value,
      projectId,
      projects: new Set([projectId, ...(jobToken.allowedProjects ?? [])]),
      readJobs: jobToken.readJobs ?? false,
    };
  }
  return null;
}
