/**
 * `gitlab` (extra): GitLab's own pagination, robust to the 10,000-row rule.
 *
 * @module
 */

import type { PaginatorConfig } from "../../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { findLink } from "../link_header.ts";
import { type Paginator, PaginatorOptions, withParam, withUrl } from "./paginator.ts";

/**
 * Follows the `Link` header's `rel="next"` (offset and keyset pagination); when there is no
 * `Link` header, sets `page_param` (default `page`) from `x-next-page`; stops when neither is
 * there. Never reads `x-total` / `x-total-pages` (GitLab leaves them out past 10,000 rows and
 * on some endpoints).
 *
 * @example
 * ```ts
 * const p = new GitlabPaginator({ type: "gitlab" });
 * ```
 */
export class GitlabPaginator implements Paginator {
  readonly #pageParam: string;
  constructor(config: PaginatorConfig = { type: "gitlab" }) {
    this.#pageParam = new PaginatorOptions(config).string("page_param", "page");
  }

  /** Returns the request unchanged. */
  init(request: HttpRequest): HttpRequest {
    return request;
  }

  /** The next request, or `undefined` at the end. */
  update(response: HttpResponse): HttpRequest | undefined {
    const next = findLink(response.headers, "next", response.url);
    // a next page that is this one is returned too: the series tells such a loop (it stopped
    // here silently before, with the pages after it never read)
    if (next !== undefined) return withUrl(response.request, next);
    if (response.headers.has("link")) return undefined;
    const page = response.headers.get("x-next-page")?.trim();
    if (!page) return undefined;
    return withParam(response.request, this.#pageParam, /^\d+$/.test(page) ? Number(page) : page);
  }
}
