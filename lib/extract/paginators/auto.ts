/**
 * `auto` (and no paginator): the paginator is detected from the first response, in the order
 * of dlt's `detector.py`.
 *
 * @module
 */

import type { Json } from "../../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { isMapping } from "../../common/json.ts";
import { findLink } from "../link_header.ts";
import { JsonResponseCursorPaginator } from "./cursor.ts";
import { HeaderLinkPaginator } from "./header_link.ts";
import { JsonLinkPaginator } from "./json_link.ts";
import { PageNumberPaginator } from "./page_number.ts";
import type { Paginator } from "./paginator.ts";
import { SinglePagePaginator } from "./single_page.ts";

/** A value dlt takes as a next link or cursor: a string or a number (not a bool: no end). */
const isNextValue = (v: Json | undefined): v is string | number =>
  typeof v === "string" || typeof v === "number";

/**
 * The path and value of the first key starting with "next" (any case) whose value is a string
 * or a number, or of its first `href…`/`url…` key holding one when it is an object, depth
 * first (dlt's `find_next_page_path`, whose patterns are `re.match`ed: `has_next` is no next
 * link).
 */
function findNextPath(body: Json, path: string[] = []): [string[], string | number] | undefined {
  if (!isMapping(body)) return undefined;
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase().startsWith("next")) {
      if (isMapping(value)) {
        for (const [k, v] of Object.entries(value)) {
          const lk = k.toLowerCase();
          if ((lk.startsWith("href") || lk.startsWith("url")) && isNextValue(v)) {
            return [[...path, key, k], v];
          }
        }
      } else if (isNextValue(value)) {
        return [[...path, key], value];
      }
    }
    if (isMapping(value)) {
      const found = findNextPath(value, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

const TOTAL_PAGES_KEYS = new Set(["total_pages", "totalpages", "pages"]);

/** A total dlt's `int()` takes: a whole number, or a string of one. */
const isTotal = (v: Json): boolean =>
  (typeof v === "number" && Number.isInteger(v)) ||
  (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v));

function findTotalPagesPath(body: Json, path: string[] = []): string[] | undefined {
  if (!isMapping(body)) return undefined;
  for (const [key, value] of Object.entries(body)) {
    if (TOTAL_PAGES_KEYS.has(key.toLowerCase()) && isTotal(value)) return [...path, key];
    if (isMapping(value)) {
      const found = findTotalPagesPath(value, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

function jsonPath(keys: string[]): string {
  return "$" + keys.map((k) => `['${k}']`).join("");
}

/**
 * Detects the paginator of a response: 1. a `Link` `rel="next"` → `header_link`; 2. a "next"
 * key holding a URL (`http…` or `/…`) → `json_link`; 3. `total_pages`/`pages` → `page_number`;
 * 4. any other scalar "next" value → `cursor`; 5. `single_page`.
 *
 * @example
 * ```ts
 * detectPaginator(response).name; // "header_link"
 * ```
 */
export function detectPaginator(response: HttpResponse): { name: string; paginator: Paginator } {
  if (findLink(response.headers, "next", response.url) !== undefined) {
    return { name: "header_link", paginator: new HeaderLinkPaginator() };
  }
  const next = findNextPath(response.body);
  if (next && typeof next[1] === "string" && /^(http|\/)/.test(next[1])) {
    return {
      name: "json_link",
      paginator: new JsonLinkPaginator({ type: "json_link", next_url_path: jsonPath(next[0]) }),
    };
  }
  const total = findTotalPagesPath(response.body);
  if (total) {
    return {
      name: "page_number",
      paginator: new PageNumberPaginator({ type: "page_number", total_path: jsonPath(total) }),
    };
  }
  if (next) {
    return {
      name: "cursor",
      paginator: new JsonResponseCursorPaginator({
        type: "cursor",
        cursor_path: jsonPath(next[0]),
      }),
    };
  }
  return { name: "single_page", paginator: new SinglePagePaginator() };
}

/**
 * Sends the first request as is, then paginates with the paginator detected from its response.
 *
 * @example
 * ```ts
 * const p = new AutoPaginator();
 * ```
 */
export class AutoPaginator implements Paginator {
  #delegate?: Paginator;
  /** Name of the detected paginator, once known. */
  detected?: string;

  /** Returns the request unchanged. */
  init(request: HttpRequest): HttpRequest {
    this.#delegate = undefined;
    this.detected = undefined;
    return request;
  }

  /** Detects on the first response, then delegates. */
  update(response: HttpResponse, data: Json[]): HttpRequest | undefined {
    if (!this.#delegate) {
      const { name, paginator } = detectPaginator(response);
      paginator.init(response.request);
      this.#delegate = paginator;
      this.detected = name;
    }
    return this.#delegate.update(response, data);
  }
}
