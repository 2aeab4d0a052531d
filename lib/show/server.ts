/**
 * The `gitlab-pg show` web server: `Deno.serve` on 127.0.0.1 with the page at `/` and a
 * read-only JSON API under `/api/`. It keeps one destination open while it serves and
 * closes it when it shuts down (PGlite allows one open handle per data dir).
 *
 * @module
 */

import { UserError } from "../common/errors.ts";
import { redact } from "../common/redact.ts";
import type { SqlClient } from "../load/sql_client.ts";
import { ShowData } from "./data.ts";
import { SHOW_PAGE } from "./page.ts";

/** Options of {@linkcode startShowServer}. */
export interface ShowServerOptions {
  dataset: string;
  pipelineName: string;
  /** Port; 0 picks a free one. @default {0} */
  port?: number;
  /** Interface to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** Aborting it shuts the server down. @default {undefined} */
  signal?: AbortSignal;
  /** Close the client when the server stops. @default {true} */
  closeClient?: boolean;
}

/** A running show server. */
export interface ShowServer {
  /** e.g. `http://127.0.0.1:8123/` */
  url: string;
  port: number;
  /** Resolves once the server stopped and the destination is closed. */
  finished: Promise<void>;
  /** Stops serving and closes the destination. */
  shutdown(): Promise<void>;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/**
 * Serves the dataset of `client` for browsing.
 *
 * @example
 * ```ts
 * const server = await startShowServer(client, { dataset: "gitlab_data", pipelineName: "p" });
 * console.log(server.url);
 * await server.finished;
 * ```
 */
export async function startShowServer(
  client: SqlClient,
  options: ShowServerOptions,
): Promise<ShowServer> {
  const data = new ShowData(client, options);
  const overview = {
    pipeline_name: options.pipelineName,
    dataset_name: options.dataset,
    destination_type: client.kind,
    destination_location: client.location,
  };
  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method !== "GET") return json({ error: "Only GET is served" }, 405);
    const path = url.pathname;
    if (path === "/" || path === "/index.html") {
      return new Response(SHOW_PAGE, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy":
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
        },
      });
    }
    try {
      if (path === "/api/overview") return json(overview);
      if (path === "/api/tables") return json({ tables: await data.tables() });
      const m = /^\/api\/tables\/([^/]+)\/rows$/.exec(path);
      if (m) {
        const q = url.searchParams;
        return json(
          await data.rows(decodeURIComponent(m[1]), {
            offset: Number(q.get("offset") ?? 0) || 0,
            limit: Number(q.get("limit") ?? 50) || 50,
            filter: q.get("filter") ?? "",
            column: q.get("column") || undefined,
          }),
        );
      }
      if (path === "/api/loads") return json({ loads: await data.loads() });
      if (path === "/api/schema") {
        return json({ versions: await data.versions(), schemas: await data.schemas() });
      }
      if (path === "/api/state") return json(await data.state());
      return json({ error: `Not found: "${path}"` }, 404);
    } catch (e) {
      const msg = redact(e instanceof Error ? e.message : String(e));
      return json({ error: msg }, e instanceof UserError ? 400 : 500);
    }
  };

  const { promise: listening, resolve: onListen } = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      onListen: (addr) => onListen(addr),
      onError: (e) => json({ error: redact(String(e)) }, 500),
    }, handle);
  } catch (e) {
    if (options.closeClient ?? true) await client.close();
    throw new UserError(
      `Cannot serve on "${options.hostname ?? "127.0.0.1"}:${options.port ?? 0}": ${
        e instanceof Error ? e.message : e
      }; choose another "--port"`,
    );
  }
  const addr = await listening;
  let closing: Promise<void> | undefined;
  const shutdown = () =>
    closing ??= (async () => {
      await server.shutdown();
      if (options.closeClient ?? true) await client.close();
    })();
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}/`,
    port: addr.port,
    finished: server.finished.then(() => closing ?? shutdown()),
    shutdown,
  };
}
