/**
 * Servers that mislead: links that lead back to a page already read (a proxy rewriting them, a
 * broken page count) stop the series with an error saying where, instead of reading the same
 * pages for ever, while a series paged in the POST body (one URL for all) is no loop; a page
 * count that says more pages than there are ends the series at the first page that links
 * nowhere, with the rows of a correct server; GitLab's error shape with a 200 where a list is
 * expected is an error, not a record.
 */

import assert from "node:assert/strict";
import { HttpError } from "../../lib/common/errors.ts";
import { Cursors, type ResourcesState } from "../../lib/extract/incremental.ts";
import { within } from "../helpers/deadline.ts";
import { catalog, json, resource, run, startServer } from "./_helpers.ts";

const items = (paginator: "gitlab" | "header_link" = "gitlab") =>
  catalog([
    resource("items", {
      paginator: { type: paginator },
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
    // page 2 links to itself (gitlab-pg's header_link paginator used to end there without a
    // word; dlt's has no such check and reads it for ever)
    ["header_link: Link to itself", (page, origin) => ({
      link: `<${origin}/items?page=${page === 2 ? 2 : page + 1}>; rel="next"`,
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
        run(items(what.startsWith("header_link") ? "header_link" : "gitlab"), server.origin, {
          http: { maxAttempts: 1 },
        }),
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

Deno.test("a series paged in the POST body is no loop: each page is its method, URL and body", async () => {
  // every page has the same URL; the cursor moves in the body
  const server = startServer((_req, _url, _n, text) => {
    const after = JSON.parse(text || "{}").page?.after ?? 0;
    return json({ data: [{ id: after + 1 }], next: after < 2 ? after + 1 : null });
  });
  try {
    const cat = catalog([
      resource("hits", {
        paginator: { type: "cursor", cursor_path: "next", cursor_body_path: "page.after" },
        endpoint: { method: "POST", path: "search", json: { q: "x" }, data_selector: "data" },
      }),
    ]);
    const { jobs } = await within(run(cat, server.origin), 10_000, "the body-paged series");
    assert.deepEqual(jobs.hits.map((r) => r.id), [1, 2, 3]);
  } finally {
    await server.close();
  }
});

Deno.test("GitLab's error shape with a 200 where a list is expected is an error, not a record", async () => {
  const server = startServer((_req, url) =>
    url.pathname === "/items"
      ? json({ message: "Your session has expired" })
      : url.pathname === "/version"
      ? json({ message: "a status endpoint's own data" })
      : json({ version: "17.5.0", message: "a field among others" })
  );
  try {
    const err = await run(items(), server.origin).catch((e) => e);
    assert.ok(err instanceof HttpError, String(err));
    assert.match(
      err.message,
      /^Cannot fetch resource "items": GitLab answered HTTP 200 for http:\/\/127\.0\.0\.1:\d+\/items\S* with an error instead of data: \{"message":"Your session has expired"\} \(if that is the resource's data, set its data_selector: "\$"\)$/,
    );
    // with data_selector "$" (and for an object with other keys too) it is data
    const asData = catalog([
      resource("version", { endpoint: { method: "GET", path: "version", data_selector: "$" } }),
      resource("meta", { endpoint: { method: "GET", path: "meta" } }),
    ]);
    const { jobs } = await run(asData, server.origin);
    assert.deepEqual(jobs.version, [{ message: "a status endpoint's own data" }]);
    assert.equal(jobs.meta[0].version, "17.5.0");
  } finally {
    await server.close();
  }
});

Deno.test("--limit on a page that links nowhere, under a count that says more, warns of nothing", async () => {
  // an incremental series, so that a --limit taken for a cut (its pages counted as more) would
  // hold the cursor and warn; the control below, whose last page links on, does both
  const incremental = { cursor_path: "id", initial_value: 0 };
  const counted = catalog([
    resource("items", {
      paginator: { type: "gitlab" },
      endpoint: { method: "GET", path: "items", incremental },
    }),
  ]);
  for (const linksOn of [false, true]) {
    const { server } = pagedServer((page) => ({
      "x-total-pages": "10",
      "x-next-page": page < 3 || linksOn ? String(page + 1) : "",
    }));
    try {
      const state: ResourcesState = {};
      const cursors = new Cursors(state);
      const { info, jobs } = await run(counted, server.origin, {
        limit: 3,
        concurrency: 4,
        cursors,
      });
      cursors.commit();
      assert.equal(jobs.items.length, 6);
      if (linksOn) {
        assert.equal(info.warnings.length, 1, info.warnings.join("\n"));
        assert.match(info.warnings[0], /^--limit stopped resource "items" before its last page/);
        assert.deepEqual(state, {});
      } else {
        assert.deepEqual(info.warnings, []);
        assert.equal(
          (state.items as { incremental: Record<string, { last_value: unknown }> }).incremental.id
            .last_value,
          32,
        );
      }
    } finally {
      await server.close();
    }
  }
});
