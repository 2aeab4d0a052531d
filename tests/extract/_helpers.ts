/**
 * Test helpers of extract: small real HTTP servers on loopback (never a mocked fetch), a raw
 * TCP server for connection faults, catalog builders and a job file reader.
 *
 * @module
 */

import { join } from "node:path";
import type { Catalog, ResolvedResource } from "../../lib/catalog/types.ts";
import { extract, type ExtractOptions } from "../../lib/extract/extract.ts";
import type { GitlabSourceConfig } from "../../lib/config/types.ts";

/** One request a test server received. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts `Deno.serve` on a free loopback port; every request is recorded. */
export function startServer(
  handler: (req: Request, url: URL, n: number, body: string) => Response | Promise<Response>,
): TestServer {
  const requests: SeenRequest[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const body = await req.text();
      requests.push({ method: req.method, url, headers: req.headers, body });
      return await handler(req, url, requests.length, body);
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/**
 * Starts a raw TCP server: `respond` gets the request head and the request number and returns
 * the raw bytes to send (then the connection closes), or `null` to close without answering.
 */
export function startRawServer(
  respond: (head: string, n: number) => string | null,
): TestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: SeenRequest[] = [];
  const port = (listener.addr as Deno.NetAddr).port;
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        try {
          const buf = new Uint8Array(65536);
          let head = "";
          while (!head.includes("\r\n\r\n")) {
            const n = await conn.read(buf);
            if (n === null) break;
            head += new TextDecoder().decode(buf.subarray(0, n));
          }
          const [method, path] = head.split(" ");
          const headers = new Headers();
          for (const line of head.split("\r\n").slice(1)) {
            const i = line.indexOf(":");
            if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
          }
          requests.push({
            method,
            url: new URL(path, `http://127.0.0.1:${port}`),
            headers,
            body: "",
          });
          const out = respond(head, requests.length);
          if (out !== null) {
            const bytes = new TextEncoder().encode(out);
            let w = 0;
            while (w < bytes.length) w += await conn.write(bytes.subarray(w));
          }
        } catch {
          // client went away
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      })();
    }
  })();
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      await loop.catch(() => {});
    },
  };
}

/** A raw HTTP/1.1 response with a JSON (or any) body and `Connection: close`. */
export function rawResponse(status: string, body: string, headers: Record<string, string> = {}) {
  const h = Object.entries({
    "content-type": "application/json",
    "content-length": String(new TextEncoder().encode(body).length),
    connection: "close",
    ...headers,
  }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `HTTP/1.1 ${status}\r\n${h}\r\n${body}`;
}

/** A JSON response. */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { ...init, headers });
}

/** A sleep that records waits and returns at once. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => (waits.push(ms), Promise.resolve()) };
}

/** A no-op sleep. */
export const noSleep = (): Promise<void> => Promise.resolve();

/** A resolved resource with defaults for everything not given. */
export function resource(
  name: string,
  over: Partial<ResolvedResource> & { path?: string } = {},
): ResolvedResource {
  const { path, ...rest } = over;
  return {
    name,
    tableName: name,
    writeDisposition: "append",
    primaryKey: [],
    mergeKey: [],
    columns: {},
    selected: true,
    resolve: [],
    includeFromParent: [],
    ...rest,
    endpoint: { method: "GET", path: path ?? name, ...over.endpoint } as ResolvedResource[
      "endpoint"
    ],
  };
}

/** A catalog of the given resources. */
export function catalog(
  resources: ResolvedResource[],
  client: Catalog["client"] = {},
): Catalog {
  return { file: "test.yaml", sourceName: "gitlab", maxTableNesting: 2, client, resources };
}

/** A source config. */
export function source(over: Partial<GitlabSourceConfig> = {}): GitlabSourceConfig {
  return { projects: [], groups: [], ...over };
}

/** A fresh package folder with `new_jobs/`. */
export async function packageDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-extract-" });
  await Deno.mkdir(join(dir, "new_jobs"));
  return dir;
}

/**
 * Records written into a package, per table (file order, then line order; a line that is a
 * JSON array, a page written as received, holds several).
 */
export async function readJobs(dir: string): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  const files: string[] = [];
  for await (const e of Deno.readDir(join(dir, "new_jobs"))) files.push(e.name);
  files.sort();
  for (const f of files) {
    const table = f.split(".")[0];
    const text = await Deno.readTextFile(join(dir, "new_jobs", f));
    for (const line of text.split("\n")) {
      if (line !== "") (out[table] ??= []).push(...[JSON.parse(line)].flat());
    }
  }
  return out;
}

/** The token the fake GitLab accepts. */
export const TOKEN = "glpat-test";

/** The gitlab paginator config. */
export const GITLAB = { type: "gitlab" } as const;

/** `projects` of the token's memberships, 5 per page. */
export const projects = (over = {}): ResolvedResource =>
  resource("projects", {
    paginator: GITLAB,
    endpoint: { method: "GET", path: "projects", params: { membership: true, per_page: 5 } },
    ...over,
  });
/** `issues` per project, 2 per page, with `_projects_id`. */
export const issues = (over = {}): ResolvedResource =>
  resource("issues", {
    paginator: GITLAB,
    parent: "projects",
    includeFromParent: ["id"],
    endpoint: {
      method: "GET",
      path: "projects/{resources.projects.id}/issues",
      params: { per_page: 2, scope: "all" },
    },
    ...over,
  });
/** `issue_notes` per issue, with the issue's iid and project id. */
export const issueNotes = (over = {}): ResolvedResource =>
  resource("issue_notes", {
    paginator: GITLAB,
    parent: "issues",
    includeFromParent: ["iid", "_projects_id"],
    endpoint: {
      method: "GET",
      path: "projects/{resources.issues.project_id}/issues/{resources.issues.iid}/notes",
    },
    ...over,
  });

/** Runs `extract()` into a temp package and returns its info and jobs. */
export async function run(
  cat: ReturnType<typeof catalog>,
  baseUrl: string,
  over: Partial<ExtractOptions> = {},
) {
  const { info, read } = await extractInto(cat, baseUrl, over, readJobs);
  return { info, jobs: read };
}

/** Runs `extract()` into a temp package and returns its info and what `read` takes from it. */
export async function extractInto<T>(
  cat: ReturnType<typeof catalog>,
  baseUrl: string,
  over: Partial<ExtractOptions>,
  read: (packageDir: string) => Promise<T>,
) {
  const dir = await packageDir();
  try {
    const info = await extract(cat, {
      source: source({ api_key: TOKEN }),
      baseUrl,
      packageDir: dir,
      sleep: noSleep,
      ...over,
    });
    return { info, read: await read(dir) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
