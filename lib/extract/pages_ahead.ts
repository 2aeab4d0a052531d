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

/**
 * The requests of pages 2 to the last of a GitLab offset-paginated series, to send at once
 * instead of one after the other, when its first `response` tells the page count
 * (`x-total-pages`, which GitLab sends up to 10,000 records) and the next page it links to is
 * that request with `page=2`: a keyset link (`id_after`, a cursor) or a paginator other than
 * `gitlab` gets undefined, and dlt's paginators always page one by one.
 */
export function pageRequests(
  paginator: PaginatorConfig | string | undefined,
  response: HttpResponse,
  next: HttpRequest,
  options: { limit?: number; urlOf: (request: HttpRequest) => string },
): HttpRequest[] | undefined {
  const config = typeof paginator === "string" ? { type: paginator } : paginator;
  if (config?.type !== "gitlab") return undefined;
  const param = typeof config.page_param === "string" ? config.page_param : "page";
  const total = Number(response.headers.get("x-total-pages"));
  if (!Number.isSafeInteger(total) || total < 3 || response.headers.get("x-page") !== "1") {
    return undefined;
  }
  const key = (req: HttpRequest) => {
    const url = new URL(options.urlOf(req));
    url.searchParams.sort();
    return url.href;
  };
  if (key(next) !== key(withParam(response.request, param, 2))) return undefined;
  const last = Math.min(total, options.limit ?? total);
  const out: HttpRequest[] = [];
  for (let page = 2; page <= last; page++) out.push(withParam(response.request, param, page));
  return out;
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
 * Pages requested ahead, handed out in order: while the budget allows, up to `window` pages
 * after the one taken are requested; a page not requested ahead is requested when its turn
 * comes.
 */
export class PagesAhead {
  readonly #fetch: (request: HttpRequest) => Promise<HttpResponse | undefined>;
  readonly #requests: HttpRequest[];
  readonly #budget: AheadBudget;
  readonly #window: number;
  /** Pages requested ahead (each holding a place of the budget), in order. */
  readonly #pending: Promise<HttpResponse | undefined>[] = [];
  /** Pages requested or taken so far. */
  #sent = 0;

  constructor(
    fetch: (request: HttpRequest) => Promise<HttpResponse | undefined>,
    requests: HttpRequest[],
    options: { window: number; budget: AheadBudget },
  ) {
    this.#fetch = fetch;
    this.#requests = requests;
    this.#budget = options.budget;
    this.#window = Math.max(1, options.window);
    this.#fill();
  }

  /** Requests pages ahead while the window and the budget allow. */
  #fill(): void {
    while (
      this.#pending.length < this.#window && this.#sent < this.#requests.length &&
      this.#budget.tryTake()
    ) {
      const p = this.#fetch(this.#requests[this.#sent++]);
      p.catch(() => {}); // a failure is thrown when its page is taken, in order
      this.#pending.push(p);
    }
  }

  /** Whether every page was taken. */
  get done(): boolean {
    return this.#pending.length === 0 && this.#sent >= this.#requests.length;
  }

  /** Waits for the pages requested and not taken (their results are dropped). */
  async settle(): Promise<void> {
    const pending = this.#pending.splice(0);
    this.#sent = this.#requests.length;
    await Promise.allSettled(pending);
    for (const _ of pending) this.#budget.give();
  }

  /** The next page, in order. */
  async next(): Promise<HttpResponse | undefined> {
    const ahead = this.#pending.shift();
    if (ahead === undefined) {
      // not requested ahead (the budget was spent): now, and more ahead if places freed up
      const p = this.#fetch(this.#requests[this.#sent++]);
      this.#fill();
      return await p;
    }
    try {
      const page = await ahead;
      this.#budget.give();
      this.#fill();
      return page;
    } catch (e) {
      // the series fails here: no more pages are asked for
      this.#budget.give();
      throw e;
    }
  }
}
