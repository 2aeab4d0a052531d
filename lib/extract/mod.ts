/**
 * Extract: GitLab REST API → records → `typed-jsonl` jobs in a load package.
 *
 * @example
 * ```ts
 * import { extract } from "./lib/extract/mod.ts";
 * const info = await extract(catalog, { source, baseUrl, packageDir });
 * ```
 *
 * @module
 */

export {
  effectivePaginator,
  extract,
  type ExtractHttpOptions,
  type ExtractInfo,
  type ExtractOptions,
  type ExtractProgress,
  failedExtractStats,
  isSingleEntityPath,
  type ResourceExtractInfo,
} from "./extract.ts";
export { type AuthParts, resolveAuth } from "./auth.ts";
export {
  HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  type HttpStats,
  joinUrl,
  parseRetryAfter,
  type QueryValue,
  type RequestContext,
} from "./http_client.ts";
export { compileJsonPath, findValues, setAtPath } from "../common/jsonpath.ts";
export { findLink, type Link, parseLinkHeader } from "./link_header.ts";
export {
  createPaginator,
  detectPaginator,
  type Paginator,
  PAGINATOR_TYPES,
} from "./paginators/mod.ts";
export {
  buildRequest,
  type BuildRequestOptions,
  describeRecord,
  expandJson,
  expandTemplate,
  includeFromParent,
  parentOf,
  type ParentRecord,
  type TemplateContext,
} from "./resolve.ts";
export { encodeId, type RequestSeries, scopeSeries } from "./scope.ts";
export { findResponsePageData, getField, selectPageData } from "./selector.ts";
