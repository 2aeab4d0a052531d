/**
 * `json_link` (alias `json_response`, dlt's `JSONLinkPaginator`): the next URL is in the body.
 *
 * @module
 */

import type { PaginatorConfig } from "../../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { firstValue, type Paginator, PaginatorOptions, withUrl } from "./paginator.ts";

/**
 * Reads the next URL at `next_url_path` (default `next`) of the JSON body; stops when it is
 * missing or empty. A relative URL is joined to the request's URL; query parameters are cleared.
 *
 * @example
 * ```ts
 * const p = new JsonLinkPaginator({ type: "json_link", next_url_path: "links.next" });
 * ```
 */
export class JsonLinkPaginator implements Paginator {
  readonly #path: string;
  constructor(config: PaginatorConfig = { type: "json_link" }) {
    this.#path = new PaginatorOptions(config).string("next_url_path", "next");
  }

  /** Returns the request unchanged. */
  init(request: HttpRequest): HttpRequest {
    return request;
  }

  /** The request to the next URL, or `undefined`. */
  update(response: HttpResponse): HttpRequest | undefined {
    const next = firstValue(this.#path, response.body);
    if (typeof next !== "string" || next === "") return undefined;
    return withUrl(response.request, new URL(next, response.url).href);
  }
}
