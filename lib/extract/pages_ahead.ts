/**
 * Pages requested ahead: a GitLab offset-paginated series that tells its page count has its
 * pages 2 to the last requested before their turn, within a window per series and a budget for
 * the whole run, and handed out in order.
 *
 * @module
 */

import type { PaginatorConfig } from "../catalog/types.ts";
import type { HttpRequest, HttpResponse } from "./http_client.ts";
import { withParam } from "./paginators/paginator.ts";

/** Options of {@linkcode pageRequests} and {@linkcode openPageRequests}. */
export interface PageRequestOptions {
  /** `--limit`: pages of the series at most. */
  limit?: number;
  /** The absolute URL of a request (to compare two requests). */
  urlOf: (request: HttpRequest) => string;
}

/**
 * The page parameter of a GitLab offset-paginated series whose first `response` links to
 * `page=2` of the same request as its `next`; undefined for a keyset link (`id_after`, a
 * cursor), a page other than the first, or a paginator other than `gitlab` (dlt's paginators
 * always page one by one).
 */
function offsetPageParam(
  paginator: PaginatorConfig | string | undefined,
  response: HttpResponse,
  next: HttpRequest,
  options: PageRequestOptions,
): string | undefined {
  const config = typeof paginator === "string" ? { type: paginator } : paginator;
  if (config?.type !== "gitlab" || response.headers.get("x-page") !== "1") return undefined;
  const param = typeof config.page_param === "string" ? config.page_param : "page";
  const next2 = withParam(response.request, param, 2);
  return sameRequest(next, next2, options.urlOf) ? param : undefined;
}

/** Whether two requests ask for the same URL (query parameters in any order). */
export function sameRequest(
  a: HttpRequest,
  b: HttpRequest,
  urlOf: (request: HttpRequest) => string,
): boolean {
  return urlKey(a, urlOf) === urlKey(b, urlOf);
}

/** A request's URL with its query parameters sorted: the same for the same page. */
export function urlKey(req: HttpRequest, urlOf: (request: HttpRequest) => string): string {
  const url = new URL(urlOf(req));
  url.searchParams.sort();
  return url.href;
}

/**
 * The requests of pages 2 to the last of a GitLab offset-paginated series, to send at once
 * instead of one after the other, when its first `response` tells the page count
 * (`x-total-pages`, which GitLab sends up to 10,000 records) and the next page it links to is
 * that request with `page=2` (see {@linkcode offsetPageParam}).
 */
export function pageRequests(
  paginator: PaginatorConfig | string | undefined,
  response: HttpResponse,
  next: HttpRequest,
  options: PageRequestOptions,
): HttpRequest[] | undefined {
  const total = Number(response.headers.get("x-total-pages"));
  if (!Number.isSafeInteger(total) || total < 3) return undefined;
  const param = offsetPageParam(paginator, response, next, options);
  if (param === undefined) return undefined;
  const last = Math.min(total, options.limit ?? total);
  const out: HttpRequest[] = [];
  for (let page = 2; page <= last; page++) out.push(withParam(response.request, param, page));
  return out;
}

/**
 * The pages after the first of a GitLab offset-paginated series that does not tell its page
 * count (`commits`, and every list past GitLab's 10,000 counted records), when its first
 * `response` links to `page=2` of the same request: page n is that request with `page=n`, as
 * far as `--limit` allows. Which of them exist is known only page by page (see
 * {@linkcode PagesAhead}'s `guess`).
 */
export function openPageRequests(
  paginator: PaginatorConfig | string | undefined,
  response: HttpResponse,
  next: HttpRequest,
  options: PageRequestOptions,
): { count: number; at: (i: number) => HttpRequest } | undefined {
  if (response.headers.get("x-total-pages")) return undefined;
  const param = offsetPageParam(paginator, response, next, options);
  if (param === undefined) return undefined;
  const count = options.limit === undefined ? Infinity : Math.max(0, options.limit - 1);
  return { count, at: (i) => withParam(response.request, param, i + 2) };
}

/**
 * Pages requested ahead of all series together, not yet taken: a series asks ahead only while
 * the run holds fewer than its `concurrency` of them (never waiting for one: a parent waiting for
 * its children while holding them all could then never go on), so memory stays bounded
 * however many long series run at once.
 */
export class AheadBudget {
  #free: number;
  constructor(max: number) {
    this.#free = Math.max(1, max);
  }
  /** Takes a place when one is free. */
  tryTake(): boolean {
    if (this.#free === 0) return false;
    this.#free--;
    return true;
  }
  /** Gives a place back. */
  give(): void {
    this.#free++;
  }
}

/**
 * One page in flight for every this many pages a series of unknown length has shown so far, at
 * most: pages asked for past its end (GitLab answers them with an empty list) are never more
 * than a quarter of the series' pages.
 */
export const GUESS_RATIO = 4;

/** Options of {@linkcode PagesAhead}. */
export interface PagesAheadOptions {
  /** Pages in flight for the series at most. */
  window: number;
  /** Places shared with every series of the run. */
  budget: AheadBudget;
  /**
   * The pages' existence is not known (a series without a page count): a page is asked for
   * ahead of its turn only while `guess()` says a request may be spent on a page that may not
   * exist, and only `1 + ⌊pages shown / GUESS_RATIO⌋` at a time; the caller takes a page, checks
   * that it links to the next one ({@linkcode PagesAhead.follows}) and then calls
   * {@linkcode PagesAhead.confirm}. Without it every page is known to exist.
   */
  guess?: () => boolean;
}

/**
 * Pages requested ahead, handed out in order: while the budget allows, up to `window` pages
 * after the one taken are requested; a page not requested ahead is requested when its turn
 * comes. Requests still out when the series stops are aborted ({@linkcode PagesAhead.settle}).
 */
export class PagesAhead {
  readonly #fetch: (request: HttpRequest, signal: AbortSignal) => Promise<HttpResponse | undefined>;
  readonly #at: (i: number) => HttpRequest;
  readonly #count: number;
  readonly #budget: AheadBudget;
  readonly #window: number;
  readonly #guess?: () => boolean;
  readonly #abort = new AbortController();
  /** Pages requested ahead (each holding a place of the budget), in order. */
  readonly #pending: Promise<HttpResponse | undefined>[] = [];
  /** Pages requested or taken so far. */
  #sent = 0;
  /** Pages taken so far. */
  #taken = 0;
  /** Pages known to exist (the rest are asked for only as guesses). */
  #known: number;

  constructor(
    fetch: (request: HttpRequest, signal: AbortSignal) => Promise<HttpResponse | undefined>,
    requests: HttpRequest[] | { count: number; at: (i: number) => HttpRequest },
    options: PagesAheadOptions,
  ) {
    this.#fetch = fetch;
    if (Array.isArray(requests)) {
      this.#at = (i) => requests[i];
      this.#count = requests.length;
    } else {
      this.#at = requests.at;
      this.#count = requests.count;
    }
    this.#budget = options.budget;
    this.#window = Math.max(1, options.window);
    this.#guess = options.guess;
    // a series without a page count: its next page is known (the first page links to it)
    this.#known = this.#guess ? Math.min(1, this.#count) : this.#count;
    this.#fill();
  }

  /** Requests pages ahead while the window and the budget allow. */
  #fill(): void {
    const window = this.#guess
      ? Math.min(this.#window, 1 + Math.floor((this.#taken + 1) / GUESS_RATIO))
      : this.#window;
    while (this.#pending.length < window && this.#sent < this.#count) {
      if (this.#sent >= this.#known && !this.#guess!()) break;
      if (!this.#budget.tryTake()) break;
      const p = this.#fetch(this.#at(this.#sent++), this.#abort.signal);
      p.catch(() => {}); // a failure is thrown when its page is taken, in order
      this.#pending.push(p);
    }
  }

  /** Whether the pages are not known to exist (see {@linkcode PagesAheadOptions.guess}). */
  get guessing(): boolean {
    return this.#guess !== undefined;
  }

  /** Whether every page was taken. */
  get done(): boolean {
    return this.#pending.length === 0 && this.#sent >= this.#count;
  }

  /** Whether `request` (the last page's link) is the page this hands out next. */
  follows(request: HttpRequest, urlOf: (request: HttpRequest) => string): boolean {
    return this.#taken < this.#count && sameRequest(request, this.#at(this.#taken), urlOf);
  }

  /** The page taken last linked to the next one: it exists, and more may be asked for ahead. */
  confirm(): void {
    this.#known = Math.max(this.#known, Math.min(this.#taken + 1, this.#count));
    this.#fill();
  }

  /** Aborts the pages requested and not taken and waits for them (their results are dropped). */
  async settle(): Promise<void> {
    const pending = this.#pending.splice(0);
    this.#sent = this.#count;
    if (pending.length > 0) this.#abort.abort(new PagesDropped());
    await Promise.allSettled(pending);
    for (const _ of pending) this.#budget.give();
  }

  /** The next page, in order. */
  async next(): Promise<HttpResponse | undefined> {
    const ahead = this.#pending.shift();
    this.#taken++;
    if (ahead === undefined) {
      // not requested ahead (the budget was spent): now, and more ahead if places freed up
      const p = this.#fetch(this.#at(this.#sent++), this.#abort.signal);
      if (!this.#guess) this.#fill();
      return await p;
    }
    try {
      const page = await ahead;
      this.#budget.give();
      if (!this.#guess) this.#fill();
      return page;
    } catch (e) {
      // the series fails here: no more pages are asked for
      this.#budget.give();
      throw e;
    }
  }
}

/** Why a page requested ahead and no longer wanted was aborted. */
export class PagesDropped extends Error {
  constructor() {
    super("the series ended before this page: not needed");
    this.name = "PagesDropped";
  }
}
