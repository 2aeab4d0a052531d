/**
 * The paginator interface and the helpers paginators share.
 *
 * @module
 */

import type { Json, PaginatorConfig } from "../../catalog/types.ts";
import { UserError } from "../../common/errors.ts";
import type { HttpRequest, HttpResponse } from "../http_client.ts";
import { findValues, setAtPath } from "../../common/jsonpath.ts";

/**
 * A paginator: given the first request it returns the request to send, and after each
 * response (with the page's records) the next request, or `undefined` when done. One instance
 * serves one request series.
 *
 * @example
 * ```ts
 * let req: HttpRequest | undefined = paginator.init({ url: "projects" });
 * while (req) {
 *   const res = await client.request(req);
 *   req = paginator.update(res!, selectPageData(res!.body));
 * }
 * ```
 */
export interface Paginator {
  /** The first request of the series (e.g. with `page=1` set). */
  init(request: HttpRequest): HttpRequest;
  /** The next request after `response` whose records are `data`, or `undefined` when done. */
  update(response: HttpResponse, data: Json[]): HttpRequest | undefined;
}

/** Reads paginator options with type checks and names the paginator in errors. */
export class PaginatorOptions {
  readonly #config: PaginatorConfig;
  constructor(config: PaginatorConfig) {
    this.#config = config;
  }

  /** Whether the option is present (even as `null`). */
  has(name: string): boolean {
    return this.#config[name] !== undefined;
  }

  #bad(name: string, expected: string): never {
    throw new UserError(
      `Cannot create paginator "${this.#config.type}": option "${name}" must be ${expected}, got ${
        JSON.stringify(this.#config[name])
      }`,
    );
  }

  /** A string option; `null` stays `null` (used to disable `total_path`). */
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string | null): string | null | undefined;
  string(name: string, fallback?: string | null): string | null | undefined {
    const v = this.#config[name];
    if (v === undefined) return fallback;
    if (v === null || typeof v === "string") return v;
    return this.#bad(name, "a string");
  }

  /** An integer option. */
  int(name: string, fallback: number): number;
  int(name: string, fallback?: number): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const v = this.#config[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v === "number" && Number.isInteger(v)) return v;
    if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
    return this.#bad(name, "an integer");
  }

  /** A boolean option. */
  bool(name: string, fallback: boolean): boolean {
    const v = this.#config[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v === "boolean") return v;
    return this.#bad(name, "true or false");
  }

  /** A required integer option. */
  requiredInt(name: string): number {
    const v = this.int(name);
    if (v === undefined) {
      throw new UserError(
        `Cannot create paginator "${this.#config.type}": option "${name}" is required`,
      );
    }
    return v;
  }
}

/** A copy of `request` with query parameter `name` set. */
export function withParam(request: HttpRequest, name: string, value: Json): HttpRequest {
  return { ...request, params: { ...request.params, [name]: value } };
}

/** A copy of `request` with `value` at `path` of its JSON body. */
export function withBodyValue(request: HttpRequest, path: string, value: Json): HttpRequest {
  return { ...request, json: setAtPath(request.json, path, value) };
}

/** A copy of `request` going to `url` (absolute), its query parameters cleared. */
export function withUrl(request: HttpRequest, url: string): HttpRequest {
  return { ...request, url, params: {} };
}

/** First value at `path` in a JSON body, or `undefined`. */
export function firstValue(path: string, body: Json): Json | undefined {
  return findValues(path, body)[0];
}

/**
 * Reads `has_more_path` as dlt does: missing raises, `"true"`/`"false"` strings are booleans.
 */
export function readHasMore(type: string, path: string, body: Json): boolean {
  const v = firstValue(path, body);
  if (v === undefined || v === null) {
    throw new UserError(
      `Cannot paginate with "${type}": has_more_path "${path}" not found in the response`,
    );
  }
  if (typeof v === "string") {
    if (v.toLowerCase() === "true") return true;
    if (v.toLowerCase() === "false") return false;
  }
  if (typeof v === "boolean") return v;
  throw new UserError(
    `Cannot paginate with "${type}": has_more_path "${path}" must be a boolean, got ${
      JSON.stringify(v)
    }`,
  );
}
