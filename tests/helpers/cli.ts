/**
 * Runs `main.ts` as a subprocess, the way a user runs the binary: from another working
 * directory, with an explicit environment.
 *
 * @module
 */

/** Absolute path of main.ts. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Output of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Env vars that configure gitlab-pg; never inherited by the subprocess. */
const CONFIG_VARS =
  /^(SOURCES__|DESTINATION__|RUNTIME__|NORMALIZE__|PIPELINE_NAME$|DATASET_NAME$|DESTINATION_TYPE$|PIPELINES_DIR$|EXPORT_SCHEMA_PATH$|IMPORT_SCHEMA_PATH$|CI_API_V4_URL$|CI_JOB_TOKEN$|PG[A-Z]+$)/;

/**
 * Runs `gitlab-pg <args>` in `cwd` with `env`. The parent's environment is inherited (Deno's
 * cache, proxies) except anything that configures gitlab-pg.
 */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliResult> {
  const out = await cliCommand(args, options).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * The `deno run … main.ts <args>` command runCli uses, with stdout and stderr piped, for tests
 * that need the process itself (a server they talk to, a signal they send).
 */
export function cliCommand(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Deno.Command {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!CONFIG_VARS.test(k)) env[k] = v;
  }
  Object.assign(env, { NO_COLOR: "1" }, options.env);
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--quiet",
      MAIN,
      ...args,
    ],
    cwd: options.cwd,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
}
