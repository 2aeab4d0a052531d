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
  /** A page of rows that takes longer is cancelled (Postgres servers). @default {30000} */
  statementTimeoutMs?: number;
}

/** A running show server. */
export interface ShowServer {
  /** The address to open, with the access token: `http://127.0.0.1:8123/?token=…` */
  url: string;
  /** The server's root, e.g. `http://127.0.0.1:8123/` */
  origin: string;
  /**
   * The access token of this server (random, per start): a `token` query parameter or an
   * `Authorization: Bearer` header (the page sends it so).
   */
  token: string;
  port: number;
  /** Resolves once the server stopped and the destination is closed. */
  finished: Promise<void>;
  /** Stops serving and closes the destination. */
  shutdown(): Promise<void>;
}

/** A random access token: 24 bytes, base64url. */
function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Compares two strings in time independent of where they differ. */
function sameSecret(a: string | null | undefined, b: string): boolean {
  if (typeof a !== "string" || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A non-negative integer query parameter (`fallback` when absent); undefined when invalid. */
function count(value: string | null, fallback: number): number | undefined {
  if (value === null || value === "") return fallback;
  return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
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
  const token = newToken();
  let port = 0;
  /**
   * Whether a request may be served: addressed to this server by name (a DNS-rebound name
   * fails: a web page the user visits cannot read the data), not sent by another site (no
   * cross-site request starts queries), and holding the token (other users and processes of
   * the machine get nothing).
   */
  const refuse = (req: Request, url: URL): Response | undefined => {
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
    if (options.hostname) hosts.push(`${options.hostname.toLowerCase()}:${port}`);
    const host = req.headers.get("host") ?? url.host;
    if (!hosts.includes(host.toLowerCase())) {
      return json({ error: `This server answers only at http://127.0.0.1:${port}/` }, 403);
    }
    const site = req.headers.get("sec-fetch-site");
    const origin = req.headers.get("origin");
    if (
      (site !== null && site !== "same-origin" && site !== "none") ||
      (origin !== null && !hosts.some((h) => origin.toLowerCase() === `http://${h}`))
    ) {
      return json({ error: "Requests from other sites are not served" }, 403);
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    if (sameSecret(url.searchParams.get("token"), token) || sameSecret(bearer, token)) {
      return undefined;
    }
    return json({
      error: "No access token: open the address `gitlab-pg show` printed (it ends in ?token=…)",
    }, 401);
  };
  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method !== "GET") return json({ error: "Only GET is served" }, 405);
    const refused = refuse(req, url);
    if (refused) return refused;
    const path = url.pathname;
    if (path === "/" || path === "/index.html") {
      return new Response(SHOW_PAGE, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy":
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
          "referrer-policy": "no-referrer",
          "cache-control": "no-store",
        },
      });
    }
    try {
      if (path === "/api/overview") return json(overview);
      if (path === "/api/tables") return json({ tables: await data.tables() });
      const m = /^\/api\/tables\/([^/]+)\/rows$/.exec(path);
      if (m) {
        const q = url.searchParams;
        let table: string;
        try {
          table = decodeURIComponent(m[1]);
        } catch {
          return json({ error: `Bad table name in "${path}"` }, 400);
        }
        const offset = count(q.get("offset"), 0);
        const limit = count(q.get("limit"), 50);
        if (offset === undefined || limit === undefined) {
          return json({ error: "offset and limit must be whole numbers" }, 400);
        }
        return json(
          await data.rows(table, {
            offset,
            limit,
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
  port = addr.port;
  let closing: Promise<void> | undefined;
  const shutdown = () =>
    closing ??= (async () => {
      await server.shutdown();
      if (options.closeClient ?? true) await client.close();
    })();
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const origin = `http://${host}:${addr.port}/`;
  return {
    url: `${origin}?token=${token}`,
    origin,
    token,
    port: addr.port,
    finished: server.finished.then(() => closing ?? shutdown()),
    shutdown,
  };
}
