/**
 * `header_cursor` (dlt's `HeaderCursorPaginator`): the next cursor is in a response header.
 *
 * @module
 */

import type { PaginatorConfig } from "../../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { type Paginator, PaginatorOptions, withParam } from "./paginator.ts";

/**
 * Reads header `cursor_key` (default `next`) and sends it as query parameter `cursor_param`
 * (default `cursor`); stops when the header is absent or empty.
 *
 * @example
 * ```ts
 * const p = new HeaderCursorPaginator({ type: "header_cursor", cursor_key: "X-Next-Cursor" });
 * ```
 */
export class HeaderCursorPaginator implements Paginator {
  readonly #key: string;
  readonly #param: string;
  constructor(config: PaginatorConfig = { type: "header_cursor" }) {
    const o = new PaginatorOptions(config);
    this.#key = o.string("cursor_key", "next");
    this.#param = o.string("cursor_param", "cursor");
  }

  /** Returns the request unchanged. */
  init(request: HttpRequest): HttpRequest {
    return request;
  }

  /** The request with the next cursor, or `undefined`. */
  update(response: HttpResponse): HttpRequest | undefined {
    const cursor = response.headers.get(this.#key);
    if (cursor === null || cursor === "") return undefined;
    return withParam(response.request, this.#param, cursor);
  }
}
