/**
 * `header_link` (dlt's `HeaderLinkPaginator`): follows the `Link` header's `rel="next"`.
 *
 * @module
 */

import type { PaginatorConfig } from "../../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { findLink } from "../link_header.ts";
import { type Paginator, PaginatorOptions, withUrl } from "./paginator.ts";

/**
 * Follows `Link: <url>; rel="next"` (relation `links_next_key`, default `next`) until absent
 * (a link back to a page already read is a loop the series stops on).
 * The next URL replaces the request's URL and its query parameters are cleared.
 *
 * @example
 * ```ts
 * const p = new HeaderLinkPaginator({ type: "header_link" });
 * ```
 */
export class HeaderLinkPaginator implements Paginator {
  readonly #rel: string;
  constructor(config: PaginatorConfig = { type: "header_link" }) {
    this.#rel = new PaginatorOptions(config).string("links_next_key", "next");
  }

  /** Returns the request unchanged. */
  init(request: HttpRequest): HttpRequest {
    return request;
  }

  /** The request to the next link, or `undefined`. */
  update(response: HttpResponse): HttpRequest | undefined {
    const next = findLink(response.headers, this.#rel, response.url);
    // a next link to this very page is returned too: the series stops with an error naming
    // both (it stopped here silently before, as if the list had ended)
    return next === undefined ? undefined : withUrl(response.request, next);
  }
}
