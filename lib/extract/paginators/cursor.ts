/**
 * `cursor` (dlt's `JSONResponseCursorPaginator`): the next cursor is in the JSON body.
 *
 * @module
 */

import type { Json, PaginatorConfig } from "../../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import {
  firstValue,
  type Paginator,
  PaginatorOptions,
  readHasMore,
  withBodyValue,
  withParam,
} from "./paginator.ts";

/**
 * Reads the cursor at `cursor_path` (default `cursors.next`) and sends it as query parameter
 * `cursor_param` (default `cursor`) or at `cursor_body_path` of the JSON body. Stops when the
 * cursor is missing or empty, when `has_more_path` is false, or after an empty page when
 * `stop_after_empty_page` (default false).
 *
 * @example
 * ```ts
 * const p = new JsonResponseCursorPaginator({ type: "cursor", cursor_path: "meta.next" });
 * ```
 */
export class JsonResponseCursorPaginator implements Paginator {
  readonly #path: string;
  readonly #param?: string;
  readonly #bodyPath?: string;
  readonly #stopAfterEmpty: boolean;
  readonly #hasMorePath?: string;

  constructor(config: PaginatorConfig = { type: "cursor" }) {
    const o = new PaginatorOptions(config);
    this.#path = o.string("cursor_path", "cursors.next");
    this.#bodyPath = o.string("cursor_body_path") ?? undefined;
    this.#param = o.string("cursor_param") ?? (this.#bodyPath ? undefined : "cursor");
    this.#stopAfterEmpty = o.bool("stop_after_empty_page", false);
    this.#hasMorePath = o.string("has_more_path") ?? undefined;
  }

  /** Returns the request unchanged. */
  init(request: HttpRequest): HttpRequest {
    return request;
  }

  /** The request with the next cursor, or `undefined`. */
  update(response: HttpResponse, data: Json[]): HttpRequest | undefined {
    if (this.#stopAfterEmpty && data.length === 0) return undefined;
    const cursor = firstValue(this.#path, response.body);
    if (cursor === undefined || cursor === null || cursor === "" || cursor === false) {
      return undefined;
    }
    if (this.#hasMorePath && !readHasMore("cursor", this.#hasMorePath, response.body)) {
      return undefined;
    }
    let next = response.request;
    if (this.#bodyPath) next = withBodyValue(next, this.#bodyPath, cursor);
    if (this.#param) next = withParam(next, this.#param, cursor);
    return next;
  }
}
