/**
 * dlt's `RangePaginator`: the shared logic of `offset` and `page_number`.
 *
 * @module
 */

import type { Json } from "../../catalog/types.ts";
import { UserError } from "../../common/errors.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { setAtPath } from "../../common/jsonpath.ts";
import { firstValue, type Paginator, readHasMore } from "./paginator.ts";

/** Settings of a {@linkcode RangePaginator}. */
export interface RangeSettings {
  /** Paginator type, for messages. */
  type: string;
  /** Query parameter of the moving value (`page`, `offset`). */
  param: string;
  /** Where the moving value goes in a JSON body instead. */
  bodyPath?: string;
  initialValue: number;
  /** Added after each page (1, or `limit`). */
  step: number;
  /** `base_page` (0 for offsets). */
  baseIndex: number;
  /** `maximum_page` / `maximum_offset`. */
  maximumValue?: number;
  /** Path of the total; `undefined` disables. */
  totalPath?: string;
  stopAfterEmptyPage: boolean;
  hasMorePath?: string;
}

/**
 * Sends a value that moves by `step` after each page. Stops after an empty page (when
 * `stopAfterEmptyPage`), when the value reaches `total + baseIndex` or `maximumValue`, or when
 * `has_more_path` is false. A configured `total_path` missing from the response raises, as in
 * dlt.
 */
export class RangePaginator implements Paginator {
  readonly #s: RangeSettings;
  /** The value the next request sends. */
  current: number;

  constructor(settings: RangeSettings) {
    if (
      settings.totalPath === undefined && settings.maximumValue === undefined &&
      !settings.stopAfterEmptyPage && settings.hasMorePath === undefined
    ) {
      throw new UserError(
        `Cannot create paginator "${settings.type}": set one of total_path, maximum_${
          settings.type === "offset" ? "offset" : "page"
        }, has_more_path, or stop_after_empty_page: true, or it never stops`,
      );
    }
    this.#s = settings;
    this.current = settings.initialValue;
  }

  /** Sets the moving value (and any fixed values) on a request. */
  protected apply(request: HttpRequest): HttpRequest {
    return this.setValue(request, this.#s.param, this.#s.bodyPath, this.current);
  }

  /** Puts `value` in the query (`param`) or in the body (`bodyPath`). */
  protected setValue(
    request: HttpRequest,
    param: string,
    bodyPath: string | undefined,
    value: number,
  ): HttpRequest {
    if (bodyPath) {
      return { ...request, json: setAtPath(request.json, bodyPath, value) };
    }
    return { ...request, params: { ...request.params, [param]: value } };
  }

  /** The first request, with the initial value. */
  init(request: HttpRequest): HttpRequest {
    this.current = this.#s.initialValue;
    return this.apply(request);
  }

  /** The next request, or `undefined`. */
  update(response: HttpResponse, data: Json[]): HttpRequest | undefined {
    const s = this.#s;
    if (s.stopAfterEmptyPage && data.length === 0) return undefined;
    let total: number | undefined;
    if (s.totalPath) {
      const v = firstValue(s.totalPath, response.body);
      if (v === undefined || v === null) {
        throw new UserError(
          `Cannot paginate with "${s.type}": total_path "${s.totalPath}" not found in the response; set total_path: null when the API sends no total`,
        );
      }
      total = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
      if (!Number.isInteger(total)) {
        throw new UserError(
          `Cannot paginate with "${s.type}": total at "${s.totalPath}" must be an integer, got ${
            JSON.stringify(v)
          }`,
        );
      }
    }
    this.current += s.step;
    if (total !== undefined && this.current >= total + s.baseIndex) return undefined;
    if (s.maximumValue !== undefined && this.current >= s.maximumValue) return undefined;
    if (s.hasMorePath && !readHasMore(s.type, s.hasMorePath, response.body)) return undefined;
    return this.apply(response.request);
  }
}
