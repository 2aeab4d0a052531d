/**
 * `auto` (and no paginator): the paginator is detected from the first response, in the order
 * of dlt's `detector.py`.
 *
 * @module
 */

import type { Json } from "../../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { findLink } from "../link_header.ts";
import { JsonResponseCursorPaginator } from "./cursor.ts";
import { HeaderLinkPaginator } from "./header_link.ts";
import { JsonLinkPaginator } from "./json_link.ts";
import { PageNumberPaginator } from "./page_number.ts";
import type { Paginator } from "./paginator.ts";
import { SinglePagePaginator } from "./single_page.ts";

type Obj = { [key: string]: Json };
function isObject(v: Json | undefined): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The path and value of the first key containing "next" (dlt's `find_next_page_path`). */
function findNextPath(body: Json, path: string[] = []): [string[], Json] | undefined {
  if (!isObject(body)) return undefined;
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase().includes("next")) {
      if (isObject(value)) {
        for (const k of Object.keys(value)) {
          const lk = k.toLowerCase();
          if (lk.includes("href") || lk.includes("url")) return [[...path, key, k], value[k]];
        }
      }
      return [[...path, key], value];
    }
    if (isObject(value)) {
      const found = findNextPath(value, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

const TOTAL_PAGES_KEYS = new Set(["total_pages", "totalpages", "pages"]);

function findTotalPagesPath(body: Json, path: string[] = []): string[] | undefined {
  if (!isObject(body)) return undefined;
  for (const [key, value] of Object.entries(body)) {
    if (TOTAL_PAGES_KEYS.has(key.toLowerCase()) && typeof value === "number") return [...path, key];
    if (isObject(value)) {
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
  if (next && next[1] !== null && typeof next[1] !== "object") {
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
