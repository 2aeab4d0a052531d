/**
 * Paginators of dlt's `PAGINATOR_MAP` plus the extra `gitlab`, and a factory.
 *
 * @module
 */

import type { PaginatorConfig } from "../../catalog/types.ts";
import { UserError } from "../../common/errors.ts";
import { AutoPaginator } from "./auto.ts";
import { JsonResponseCursorPaginator } from "./cursor.ts";
import { GitlabPaginator } from "./gitlab.ts";
import { HeaderCursorPaginator } from "./header_cursor.ts";
import { HeaderLinkPaginator } from "./header_link.ts";
import { JsonLinkPaginator } from "./json_link.ts";
import { OffsetPaginator } from "./offset.ts";
import { PageNumberPaginator } from "./page_number.ts";
import type { Paginator } from "./paginator.ts";
import { SinglePagePaginator } from "./single_page.ts";

export type { Paginator } from "./paginator.ts";
export { AutoPaginator, detectPaginator } from "./auto.ts";
export { JsonResponseCursorPaginator } from "./cursor.ts";
export { GitlabPaginator } from "./gitlab.ts";
export { HeaderCursorPaginator } from "./header_cursor.ts";
export { HeaderLinkPaginator } from "./header_link.ts";
export { JsonLinkPaginator } from "./json_link.ts";
export { OffsetPaginator } from "./offset.ts";
export { PageNumberPaginator } from "./page_number.ts";
export { RangePaginator } from "./range.ts";
export { SinglePagePaginator } from "./single_page.ts";

const FACTORIES: Record<string, (config: PaginatorConfig) => Paginator> = {
  auto: () => new AutoPaginator(),
  single_page: () => new SinglePagePaginator(),
  header_link: (c) => new HeaderLinkPaginator(c),
  json_link: (c) => new JsonLinkPaginator(c),
  json_response: (c) => new JsonLinkPaginator(c),
  header_cursor: (c) => new HeaderCursorPaginator(c),
  cursor: (c) => new JsonResponseCursorPaginator(c),
  offset: (c) => new OffsetPaginator(c),
  page_number: (c) => new PageNumberPaginator(c),
  gitlab: (c) => new GitlabPaginator(c),
};

/** Paginator type names accepted by {@linkcode createPaginator}. */
export const PAGINATOR_TYPES: readonly string[] = Object.keys(FACTORIES);

/**
 * A new paginator for one request series. `undefined` (or `"auto"`) detects the paginator from
 * the first response; a string is a type with default options.
 *
 * @example
 * ```ts
 * const p = createPaginator({ type: "page_number", base_page: 1, total_path: null });
 * ```
 */
export function createPaginator(config?: PaginatorConfig | string): Paginator {
  const c: PaginatorConfig = config === undefined
    ? { type: "auto" }
    : typeof config === "string"
    ? { type: config }
    : config;
  const factory = FACTORIES[c.type];
  if (!factory) {
    throw new UserError(
      `Cannot create paginator "${c.type}": unknown type, use one of ${PAGINATOR_TYPES.join(", ")}`,
    );
  }
  return factory(c);
}
