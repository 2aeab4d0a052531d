/**
 * GitLab's offset and keyset pagination: which slice to serve and which headers to send.
 * Only the served slice is ever serialized.
 *
 * @module
 */

import { HttpError, invalid, type Reply } from "./_http.ts";

/** GitLab leaves out totals and `rel="last"` above this many records. */
export const COUNT_LIMIT = 10_000;

/** Where a request was made, to build `Link` URLs on the server's own origin. */
export interface PageRequest {
  /** The request URL's query. */
  params: URLSearchParams;
  /** Origin and prefix for links, e.g. `http://127.0.0.1:8080/api/v4`. */
  linkBase: string;
  /** The raw (still percent-encoded) path after the prefix, e.g. `/projects/1/issues`. */
  apiPath: string;
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw invalid(name);
  return Number(raw);
}

/** Reads `page` (default 1) and `per_page` (default 20, at most 100). */
export function pageParams(params: URLSearchParams): { page: number; perPage: number } {
  const page = Math.max(1, intParam(params, "page") ?? 1);
  const asked = intParam(params, "per_page") ?? 20;
  const perPage = asked < 1 ? 20 : Math.min(100, asked);
  return { page, perPage };
}

function href(req: PageRequest, set: Record<string, string>, drop: string[] = []): string {
  const params = new URLSearchParams(req.params);
  for (const name of drop) params.delete(name);
  for (const [name, value] of Object.entries(set)) params.set(name, value);
  return `${req.linkBase}${req.apiPath}?${params}`;
}

/** Options of {@linkcode offsetPage}. */
export interface OffsetOptions {
  /** Send `x-total` and `x-total-pages` (false for commits). @default {true} */
  counts?: boolean;
  /** Maximum offset (`page - 1) * per_page` allowed; 0 for none. @default {0} */
  maxOffset?: number;
  /** Type named in the max-offset error. @default {"Project"} */
  typeName?: string;
}

/** Serves one offset page of `items` with GitLab's headers. */
export function offsetPage(
  items: readonly unknown[],
  req: PageRequest,
  options: OffsetOptions = {},
): Reply {
  const { page, perPage } = pageParams(req.params);
  const offset = (page - 1) * perPage;
  if (options.maxOffset && offset > options.maxOffset) {
    throw new HttpError(405, {
      error: `Offset pagination has a maximum allowed offset of ${options.maxOffset} ` +
        `for requests that return objects of type ${options.typeName ?? "Project"}. ` +
        "Remaining records can be retrieved using keyset pagination.",
    });
  }
  const total = items.length;
  const counted = (options.counts ?? true) && total <= COUNT_LIMIT;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const outOfRange = offset >= total && page > 1;
  const nextPage = offset + perPage < total ? page + 1 : null;
  const prevPage = page > 1 && !outOfRange ? page - 1 : null;
  const links: string[] = [];
  const link = (n: number, rel: string) =>
    links.push(`<${href(req, { page: String(n), per_page: String(perPage) })}>; rel="${rel}"`);
  if (prevPage !== null) link(prevPage, "prev");
  if (nextPage !== null) link(nextPage, "next");
  link(1, "first");
  if (counted) link(totalPages, "last");
  const headers: [string, string][] = [
    ["link", links.join(", ")],
    ["x-next-page", nextPage === null ? "" : String(nextPage)],
    ["x-page", String(page)],
    ["x-per-page", String(perPage)],
    ["x-prev-page", prevPage === null ? "" : String(prevPage)],
  ];
  if (counted) headers.push(["x-total", String(total)], ["x-total-pages", String(totalPages)]);
  return { status: 200, body: items.slice(offset, offset + perPage), headers };
}

/** True when the request asks for keyset pagination. */
export function wantsKeyset(params: URLSearchParams): boolean {
  return params.get("pagination") === "keyset";
}

/**
 * Serves one keyset page of `items` (any order; sorted here by id): only a `Link` with
 * `rel="next"` carrying `id_after` (asc) or `id_before` (desc), sent when the page is full.
 */
export function keysetPage(items: readonly { id: number }[], req: PageRequest): Reply {
  const { params } = req;
  if ((params.get("order_by") ?? "id") !== "id") {
    throw new HttpError(405, {
      error: "Keyset pagination is not yet available for this type of request",
    });
  }
  const sort = params.get("sort") ?? "desc";
  if (sort !== "asc" && sort !== "desc") {
    throw new HttpError(400, { error: "sort does not have a valid value" });
  }
  const { perPage } = pageParams(params);
  const after = params.has("id_after") ? Number(params.get("id_after")) : undefined;
  const before = params.has("id_before") ? Number(params.get("id_before")) : undefined;
  if (Number.isNaN(after)) throw invalid("id_after");
  if (Number.isNaN(before)) throw invalid("id_before");
  const sorted = items
    .filter((it) =>
      (after === undefined || it.id > after) && (before === undefined || it.id < before)
    )
    .sort((a, b) => (sort === "asc" ? a.id - b.id : b.id - a.id));
  const body = sorted.slice(0, perPage);
  const headers: [string, string][] = [];
  if (body.length === perPage && body.length > 0) {
    const last = String(body[body.length - 1].id);
    const url = sort === "asc"
      ? href(req, { id_after: last }, ["id_before", "page"])
      : href(req, { id_before: last }, ["id_after", "page"]);
    headers.push(["link", `<${url}>; rel="next"`]);
  }
  return { status: 200, body, headers };
}
