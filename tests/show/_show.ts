/**
 * Starts `main.ts show --port 0` as a subprocess, the way a user runs it, and reads the URL
 * it prints. Stopping sends SIGTERM and waits for the exit (the destination is closed then).
 *
 * @module
 */

import { cliCommand } from "../helpers/cli.ts";

/** A running `gitlab-pg show`. */
export interface ShowProcess {
  /** The address printed, with the access token. */
  url: string;
  /** The server's root, e.g. `http://127.0.0.1:8123/`. */
  origin: string;
  /** The access token in `url`. */
  token: string;
  /** SIGTERM, then the exit code and stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Runs `gitlab-pg show --port 0 <args>` in `cwd` with `env`. */
export async function startShow(
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<ShowProcess> {
  const child = cliCommand(["show", "--port", "0", ...args], options).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let url: string | undefined;
  while (!url) {
    const { value, done } = await reader.read();
    if (done) {
      const status = await child.status;
      throw new Error(`show exited with ${status.code}: ${out}${await stderr}`);
    }
    out += value;
    url = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out)?.[1];
  }
  const rest = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const printed = new URL(url);
  return {
    url,
    origin: `${printed.origin}/`,
    token: printed.searchParams.get("token")!,
    async stop() {
      child.kill("SIGTERM");
      const status = await child.status;
      await rest;
      return { code: status.code, stderr: await stderr };
    },
  };
}
