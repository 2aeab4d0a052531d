/**
 * `single_page`: one request, no pagination.
 *
 * @module
 */

import type { HttpRequest } from "../http_client.ts";
import type { Paginator } from "./paginator.ts";

/**
 * Sends the first request only.
 *
 * @example
 * ```ts
 * new SinglePagePaginator().update(response, data); // undefined
 * ```
 */
export class SinglePagePaginator implements Paginator {
  /** Returns the request unchanged. */
  init(request: HttpRequest): HttpRequest {
    return request;
  }

  /** Always done. */
  update(): undefined {
    return undefined;
  }
}
