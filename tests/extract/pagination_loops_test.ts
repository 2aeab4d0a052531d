/**
 * Servers whose pagination misleads: links that lead back to a page already read (a proxy
 * rewriting them, a broken page count) stop the series with an error saying where, instead of
 * reading the same pages for ever; a page count that says more pages than there are ends the
 * series at the first page that links nowhere, with the rows of a correct server.
 */

import assert from "node:assert/strict";
import { HttpError } from "../../lib/common/errors.ts";
import { within } from "../helpers/deadline.ts";
import { catalog, json, resource, run, startServer } from "./_helpers.ts";

const items = () =>
  catalog([
    resource("items", {
      paginator: { type: "gitlab" },
      endpoint: { method: "GET", path: "items" },
    }),
  ]);

/** 3 pages of 2 items; `headers(page)` gives each page's pagination headers. */
function pagedServer(headers: (page: number, origin: string) => Record<string, string>) {
  const pages: number[] = [];
  const server = startServer((_req, url) => {
    const page = Number(url.searchParams.get("page") ?? 1);
    pages.push(page);
    if (page > 3) return json({ message: "404 Not found" }, { status: 404 });
    return json([{ id: page * 10 + 1 }, { id: page * 10 + 2 }], {
      headers: headers(page, server.origin),
    });
  });
  return { server, pages };
}

Deno.test("a next page that was read before stops the series with an error, not a loop", async () => {
  const cases: [string, (page: number, origin: string) => Record<string, string>][] = [
    // page 2 links back to page 1
    ["Link back to page 1", (page, origin) => ({
      link: `<${origin}/items?page=${page === 2 ? 1 : page + 1}>; rel="next"`,
    })],
    // x-next-page cycles 2 → 3 → 1
    ["x-next-page cycling", (page) => ({ "x-next-page": String(page === 3 ? 1 : page + 1) })],
    // x-next-page stuck on 2 (it stopped after page 2 without a word before)
    ["x-next-page stuck", () => ({ "x-next-page": "2" })],
  ];
  for (const [what, headers] of cases) {
    const { server, pages } = pagedServer(headers);
    try {
      // (a loop would never end: the deadline makes it a failure)
      const err = await within(
        run(items(), server.origin, { http: { maxAttempts: 1 } }),
        10_000,
        what,
      )
        .catch((e) => e);
      assert.ok(err instanceof HttpError, `${what}: ${err}`);
      assert.match(
        err.message,
        /^Cannot fetch resource "items": its pagination loops: the page http:\/\/127\.0\.0\.1:\d+\/items\?\S* links to http:\/\/127\.0\.0\.1:\d+\/items\?\S*page=\d\S*, read before in this series$/,
        what,
      );
      assert.ok(pages.length <= 4, `${what}: ${pages.length} requests`);
    } finally {
      await server.close();
    }
  }
});

Deno.test("a page count that says more than there is ends at the page that links nowhere", async () => {
  // x-total-pages says 10 (pages past the end answer 404, as a proxy may); GitLab's links say 3
  const { server, pages } = pagedServer((page) => ({
    "x-total-pages": "10",
    "x-total": "20",
    "x-page": String(page),
    "x-next-page": page < 3 ? String(page + 1) : "",
  }));
  try {
    const { info, jobs } = await run(items(), server.origin, { concurrency: 4 });
    assert.deepEqual(jobs.items.map((r) => r.id), [11, 12, 21, 22, 31, 32]);
    assert.deepEqual(info.warnings, []);
    assert.equal(info.resources.items.pages, 3);
    // the pages asked ahead on the count are dropped unread, whatever they answered
    assert.ok(pages.includes(3), pages.join());
  } finally {
    await server.close();
  }
});
