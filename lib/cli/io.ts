/**
 * What a command may touch: output sinks, env, cwd and fetch, all injected by `main.ts`.
 *
 * @module
 */

/** Side effects of a CLI command. */
export interface CliIo {
  /** Writes results (stdout). */
  out(text: string): void;
  /** Writes diagnostics and progress (stderr). */
  err(text: string): void;
  /** Environment variables. */
  env: Record<string, string>;
  /** Working directory. */
  cwd: string;
  /** fetch for GitLab requests. */
  fetch?: typeof fetch;
  /** Whether stderr is a terminal. */
  isTty?: boolean;
}

/** One command: its name, one-line summary, help text and action (returns the exit code). */
export interface Command {
  name: string;
  summary: string;
  help(): string;
  run(args: string[], io: CliIo): Promise<number>;
}
