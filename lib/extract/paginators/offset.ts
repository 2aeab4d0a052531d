/**
 * `offset` (dlt's `OffsetPaginator`).
 *
 * @module
 */

import type { PaginatorConfig } from "../../catalog/types.ts";
import type { HttpRequest } from "../http_client.ts";
import { PaginatorOptions } from "./paginator.ts";
import { RangePaginator } from "./range.ts";

/**
 * Sends `offset_param` (default `offset`, from `offset`, default 0) and `limit_param` (default
 * `limit`, the required `limit`) on every request; the offset grows by `limit`. Stops after an
 * empty page (`stop_after_empty_page`, default true), when the offset reaches the total
 * (`total_path`, default `"total"`; missing raises; `null` or `""` disables), at
 * `maximum_offset`, or when `has_more_path` is false. `offset_body_path` / `limit_body_path`
 * put the values in the JSON body instead.
 *
 * @example
 * ```ts
 * new OffsetPaginator({ type: "offset", limit: 100, total_path: null });
 * ```
 */
export class OffsetPaginator extends RangePaginator {
  readonly #limit: number;
  readonly #limitParam: string;
  readonly #limitBodyPath?: string;

  constructor(config: PaginatorConfig = { type: "offset" }) {
    const o = new PaginatorOptions(config);
    const limit = o.requiredInt("limit");
    super({
      type: "offset",
      param: o.string("offset_param", "offset"),
      bodyPath: o.string("offset_body_path") ?? undefined,
      initialValue: o.int("offset", 0),
      step: limit,
      baseIndex: 0,
      maximumValue: o.int("maximum_offset"),
      totalPath: o.string("total_path", "total") || undefined,
      stopAfterEmptyPage: o.bool("stop_after_empty_page", true),
      hasMorePath: o.string("has_more_path") || undefined,
    });
    this.#limit = limit;
    this.#limitParam = o.string("limit_param", "limit");
    this.#limitBodyPath = o.string("limit_body_path") ?? undefined;
  }

  /** Sets offset and limit. */
  protected override apply(request: HttpRequest): HttpRequest {
    const withOffset = super.apply(request);
    return this.setValue(withOffset, this.#limitParam, this.#limitBodyPath, this.#limit);
  }
}
