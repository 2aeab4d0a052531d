/**
 * The small set of typed errors every stage throws. `main.ts` maps them to exit codes:
 * {@linkcode UserError} (and its subclasses) → 2, everything else → 1.
 *
 * @module
 */

/** Options common to every gitlab-pg error. */
export interface GitlabPgErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
  /**
   * Whether trying the same operation again may succeed (network faults, 5xx, 429).
   * @default {false}
   */
  retryable?: boolean;
}

/**
 * Base class of all errors raised on purpose by gitlab-pg.
 *
 * @example
 * ```ts
 * throw new GitlabPgError("Cannot load package \"1.2\": destination refused the connection");
 * ```
 */
export class GitlabPgError extends Error {
  /** Whether the failed operation may succeed when tried again. */
  readonly retryable: boolean;
  constructor(message: string, options: GitlabPgErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A mistake of the user (bad flag, config, catalog): exit code 2, short message, no stack.
 *
 * @example
 * ```ts
 * throw new UserError("Unknown flag \"--limt\" (did you mean \"--limit\"?)");
 * ```
 */
export class UserError extends GitlabPgError {}

/** A bad command line: unknown command or flag, wrong flag value. Exit code 2. */
export class UsageError extends UserError {}

/**
 * A missing or malformed configuration value. The message names the TOML key and the
 * environment variable that would set it. Exit code 2.
 */
export class ConfigError extends UserError {
  /** The pipeline's names, when they were read despite the problems (for `run --json`). */
  names?: { pipeline_name?: string; dataset_name?: string };
}

/** One problem found in a catalog file, with its position (1-based line and column). */
export interface CatalogProblem {
  /** File the problem is in. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** Sentence-case message without final period. */
  message: string;
  /** The source line the problem is on, shown with a caret. */
  sourceLine?: string;
}

/** Formats one catalog problem like a compiler does: `file:line:col: message`, source, caret. */
export function formatCatalogProblem(problem: CatalogProblem): string {
  const head = `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`;
  if (problem.sourceLine === undefined) return head;
  const caret = " ".repeat(Math.max(0, problem.col - 1)) + "^";
  return `${head}\n  ${problem.sourceLine}\n  ${caret}`;
}

/**
 * All problems found in a catalog, reported at once. Exit code 2.
 *
 * @example
 * ```ts
 * throw new CatalogError([{ file: "gitlab.yaml", line: 3, col: 5, message: "Cannot read resource" }]);
 * ```
 */
export class CatalogError extends UserError {
  /** Every problem found, in file order. */
  readonly problems: CatalogProblem[];
  constructor(problems: CatalogProblem[], options: GitlabPgErrorOptions = {}) {
    const n = problems.length;
    super(
      `${problems.map(formatCatalogProblem).join("\n")}\n${n} problem${n === 1 ? "" : "s"} found`,
      options,
    );
    this.problems = problems;
  }
}

/**
 * A file gitlab-pg wrote (the local state, the trace, a schema, a load package's metadata) that
 * cannot be read back: cut short (a full disk, a machine that stopped) or edited. Exit code 2:
 * the message names the file and what to do; nothing is read from it.
 */
export class DamagedFileError extends UserError {
  /** The file. */
  readonly path: string;
  constructor(path: string, why: string, advice: string) {
    super(`Cannot read "${path}": ${why}. The file is damaged; ${advice}`);
    this.path = path;
  }
}

/** A failed HTTP exchange with GitLab (after retries, or not retryable). Exit code 1. */
export class HttpError extends GitlabPgError {
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** The request URL with secrets redacted. */
  readonly url: string;
  constructor(
    message: string,
    status: number,
    url: string,
    options: GitlabPgErrorOptions = {},
  ) {
    super(message, options);
    this.status = status;
    this.url = url;
  }
}

/** A failure while loading into the destination. Exit code 1. */
export class DestinationError extends GitlabPgError {}

/**
 * The embedded database is open in another gitlab-pg process (a run, `show`): PGlite allows
 * one at a time. Exit code 1.
 */
export class DestinationBusyError extends DestinationError {}

/** A record or schema change that the schema contract forbids. Exit code 1. */
export class DataValidationError extends GitlabPgError {}

/**
 * The run was stopped by a signal (Ctrl+C: SIGINT, or SIGTERM). Exit code 128 + the signal's
 * number (130, 143), as a shell reports a process the signal ended.
 */
export class InterruptedError extends GitlabPgError {
  readonly signal: "SIGINT" | "SIGTERM";
  constructor(signal: "SIGINT" | "SIGTERM") {
    super(
      `interrupted (${signal}): what earlier runs loaded is intact, and the next run resumes ` +
        "from the last complete step",
    );
    this.signal = signal;
  }
}

/** Exit code for an error: 2 for user mistakes, 130/143 for an interrupted run, 1 otherwise. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof InterruptedError) return error.signal === "SIGINT" ? 130 : 143;
  return error instanceof UserError ? 2 : 1;
}

/**
 * Why a `fetch` failed, as Deno tells it: its `TypeError`'s message with the reason Deno keeps
 * in the cause (refused, DNS, TLS), without the cause's URL (which may hold a token).
 *
 * @example
 * ```ts
 * await fetch("http://127.0.0.1:5999/").catch((e) => fetchFailure(e));
 * // "fetch failed: client error (Connect): tcp connect error: Connection refused (os error 111)"
 * ```
 */
export function fetchFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = fetchFailureCause(error);
  return cause ? `${message}: ${cause}` : message;
}

/** The reason in a failed `fetch`'s cause, without its URL, or "" when there is none. */
export function fetchFailureCause(error: unknown): string {
  return error instanceof Error && error.cause instanceof Error
    ? error.cause.message.replace(/^error sending request for url \(.*?\): /, "")
    : "";
}
