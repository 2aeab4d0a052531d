/**
 * `page_number` (dlt's `PageNumberPaginator`).
 *
 * @module
 */

import type { PaginatorConfig } from "../../catalog/types.ts";
import { PaginatorOptions } from "./paginator.ts";
import { RangePaginator } from "./range.ts";

/**
 * Sends `page_param` (default `page`) starting at `page` (default `base_page`, default 0),
 * one more per page. Stops after an empty page (`stop_after_empty_page`, default true), when
 * the next page reaches `total + base_page` (`total_path`, default `"total"`, a number of
 * pages; a missing total raises; `null` or `""` disables it), at `maximum_page`, or when
 * `has_more_path` is false. `page_body_path` puts the page in the JSON body instead.
 *
 * @example
 * ```ts
 * new PageNumberPaginator({ type: "page_number", base_page: 1, total_path: null });
 * ```
 */
export class PageNumberPaginator extends RangePaginator {
  constructor(config: PaginatorConfig = { type: "page_number" }) {
    const o = new PaginatorOptions(config);
    const base = o.int("base_page", 0);
    super({
      type: "page_number",
      param: o.string("page_param", "page"),
      bodyPath: o.string("page_body_path") ?? undefined,
      initialValue: o.int("page", base),
      step: 1,
      baseIndex: base,
      maximumValue: o.int("maximum_page"),
      totalPath: o.string("total_path", "total") || undefined,
      stopAfterEmptyPage: o.bool("stop_after_empty_page", true),
      hasMorePath: o.string("has_more_path") || undefined,
    });
  }
}
