/**
 * gitlab-pg: load GitLab REST API data into PostgreSQL, leaving the destination as dlt would.
 * The only module that reads `Deno.args`, prints and exits.
 *
 * @module
 */

import { runCli } from "./lib/cli/mod.ts";
import { exitCodeOf, GitlabPgError, UserError } from "./lib/common/errors.ts";
import { redact } from "./lib/common/redact.ts";

/** Runs the CLI with the process's args, env and stdio; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    return await runCli(args, {
      out: (text) => console.log(text),
      err: (text) => console.error(text),
      env: Deno.env.toObject(),
      cwd: Deno.cwd(),
      isTty: Deno.stderr.isTerminal(),
    });
  } catch (error) {
    console.error(errorText(error));
    if (
      error instanceof GitlabPgError && !(error instanceof UserError) &&
      error.cause instanceof Error && Deno.env.get("GITLAB_PG_DEBUG")
    ) {
      console.error(redact(String(error.cause.stack ?? error.cause)));
    }
    return exitCodeOf(error);
  }
}

/** What stderr tells of an error that ended the program (secrets redacted). */
export function errorText(error: unknown): string {
  if (error instanceof GitlabPgError) return `error: ${redact(error.message)}`;
  if (isOutOfSpace(error)) {
    // the machine's trouble, not a bug: where, and that nothing is lost
    return `error: ${redact((error as Error).message)}: the disk is full. Free space where ` +
      "gitlab-pg writes (pipelines_dir: the load packages and the embedded database; " +
      "export_schema_path) and run again: it resumes from the last complete step";
  }
  if (isFileSystemError(error)) {
    // a path of the configuration or a flag that cannot be used: not a bug
    return `error: ${
      redact((error as Error).message)
    } (check the folders in the configuration and flags: pipelines_dir, export_schema_path, import_schema_path, --dir)`;
  }
  const msg = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `error: unexpected failure (a bug in gitlab-pg): ${redact(msg)}`;
}

/** A write that failed on a full disk (ENOSPC: Deno has no error class of its own for it). */
function isOutOfSpace(error: unknown): boolean {
  return error instanceof Error &&
    ((error as Error & { code?: string }).code === "ENOSPC" ||
      /\(os error 28\)/.test(error.message));
}

/** An error of the file system (a missing folder, a file where a folder should be, no right). */
function isFileSystemError(error: unknown): boolean {
  const e = Deno.errors;
  return [
    e.NotFound,
    e.PermissionDenied,
    e.AlreadyExists,
    e.NotADirectory,
    e.IsADirectory,
    e.FilesystemLoop,
  ].some((k) => k !== undefined && error instanceof k);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
