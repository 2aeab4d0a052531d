import assert from "node:assert/strict";
import type { Json, PaginatorConfig } from "../../lib/catalog/types.ts";
import { UserError } from "../../lib/common/errors.ts";
import { HttpClient, type HttpRequest } from "../../lib/extract/http_client.ts";
import { type AutoPaginator, createPaginator } from "../../lib/extract/paginators/mod.ts";
import { selectPageData } from "../../lib/extract/selector.ts";
import { json, noSleep, startServer, type TestServer } from "./_helpers.ts";

/** Runs one request series like extract does; returns the records. */
async function paginate(
  server: TestServer,
  config: PaginatorConfig | string | undefined,
  first: HttpRequest,
  dataSelector?: string,
): Promise<Json[]> {
  const client = new HttpClient({ baseUrl: `${server.origin}/api/v4`, sleep: noSleep });
  const p = createPaginator(config);
  const out: Json[] = [];
  let req: HttpRequest | undefined = p.init(first);
  let guard = 0;
  while (req) {
    if (++guard > 500) throw new Error("runaway pagination");
    const res = (await client.request(req))!;
    const data = selectPageData(res.body, dataSelector);
    out.push(...data);
    req = p.update(res, data);
  }
  return out;
}

const ids = (n: number, from = 1) => Array.from({ length: n }, (_, i) => ({ id: from + i }));

/** GitLab-style offset listing of `total` rows. */
function gitlabServer(
  total: number,
  opts: { link?: boolean; nextHeader?: boolean; totals?: boolean } = {},
): TestServer {
  const { link = true, nextHeader = true, totals = total <= 10_000 } = opts;
  return startServer((_req, url) => {
    const page = Number(url.searchParams.get("page") ?? "1");
    const per = Number(url.searchParams.get("per_page") ?? "20");
    const rows = ids(Math.max(0, Math.min(per, total - (page - 1) * per)), (page - 1) * per + 1);
    const headers = new Headers();
    const last = Math.max(1, Math.ceil(total / per));
    const hasNext = page < last;
    if (nextHeader) headers.set("x-next-page", hasNext ? String(page + 1) : "");
    headers.set("x-page", String(page));
    if (totals) {
      headers.set("x-total", String(total));
      headers.set("x-total-pages", String(last));
    }
    if (link) {
      const mk = (p: number) => {
        const u = new URL(url);
        u.searchParams.set("page", String(p));
        return u.href;
      };
      const links = [`<${mk(1)}>; rel="first"`];
      if (hasNext) links.unshift(`<${mk(page + 1)}>; rel="next"`);
      if (page > 1) links.push(`<${mk(page - 1)}>; rel="prev"`);
      if (totals) links.push(`<${mk(last)}>; rel="last"`);
      headers.set("Link", links.join(", "));
    }
    return json(rows, { headers });
  });
}

Deno.test("gitlab paginator follows Link rel=next and keeps params", async () => {
  const s = gitlabServer(45);
  try {
    const rows = await paginate(s, "gitlab", { url: "projects", params: { per_page: 20, x: "y" } });
    assert.deepEqual(rows, ids(45));
    assert.equal(s.requests.length, 3);
    assert.ok(s.requests.every((r) => r.url.searchParams.get("x") === "y"));
    assert.deepEqual(s.requests.map((r) => r.url.searchParams.getAll("page")), [[], ["2"], ["3"]]);
  } finally {
    await s.close();
  }
});

Deno.test("gitlab paginator uses x-next-page when there is no Link header", async () => {
  const s = gitlabServer(45, { link: false });
  try {
    const rows = await paginate(s, { type: "gitlab" }, {
      url: "projects",
      params: { per_page: 20 },
    });
    assert.deepEqual(rows, ids(45));
    assert.deepEqual(s.requests.map((r) => r.url.searchParams.get("page")), [null, "2", "3"]);
  } finally {
    await s.close();
  }
});

Deno.test("gitlab paginator reads a >10,000-row listing without totals", async () => {
  for (const link of [true, false]) {
    const s = gitlabServer(10_050, { link, totals: false });
    try {
      const rows = await paginate(s, "gitlab", { url: "issues", params: { per_page: 100 } });
      assert.equal(rows.length, 10_050);
      assert.deepEqual(rows[10_049], { id: 10_050 });
      assert.equal(s.requests.length, 101);
      assert.ok(!s.requests.some((r) => r.url.searchParams.has("x-total")));
    } finally {
      await s.close();
    }
  }
});

Deno.test("gitlab paginator follows keyset Link cursors and stops without a Link", async () => {
  const s = startServer((_r, url) => {
    const after = Number(url.searchParams.get("id_after") ?? "0");
    const rows = ids(Math.max(0, Math.min(2, 5 - after)), after + 1);
    const headers = new Headers();
    if (after + 2 < 5) {
      const u = new URL(url);
      u.searchParams.set("id_after", String(after + 2));
      headers.set("link", `<${u.href}>; rel="next"`);
    }
    return json(rows, { headers });
  });
  try {
    const rows = await paginate(s, "gitlab", {
      url: "projects",
      params: { pagination: "keyset", order_by: "id", sort: "asc", per_page: 2 },
    });
    assert.deepEqual(rows, ids(5));
    assert.equal(s.requests.length, 3);
  } finally {
    await s.close();
  }
});

Deno.test("header_link paginator honours links_next_key", async () => {
  const s = startServer((_r, url) => {
    const p = Number(url.searchParams.get("p") ?? "1");
    const headers = p < 3 ? { link: `<${url.pathname}?p=${p + 1}>; rel="nxt"` } : undefined;
    return json(ids(1, p), { headers });
  });
  try {
    assert.deepEqual(
      await paginate(s, { type: "header_link", links_next_key: "nxt" }, { url: "x" }),
      ids(3),
    );
  } finally {
    await s.close();
  }
});

Deno.test("json_link paginator joins a relative next URL and clears params", async () => {
  const s = startServer((_r, url) => {
    const c = Number(url.searchParams.get("c") ?? "1");
    return json({
      items: ids(2, c * 10),
      links: { next: c < 3 ? `/api/v4/things?c=${c + 1}` : null },
    });
  });
  try {
    const rows = await paginate(
      s,
      { type: "json_link", next_url_path: "links.next" },
      { url: "things", params: { per_page: 2 } },
    );
    assert.equal(rows.length, 6);
    assert.equal(s.requests[1].url.search, "?c=2");
    const alias = await paginate(
      s,
      { type: "json_response", next_url_path: "links.next" },
      { url: "things" },
    );
    assert.equal(alias.length, 6);
  } finally {
    await s.close();
  }
});

Deno.test("header_cursor paginator sends the header's cursor as a param", async () => {
  const s = startServer((_r, url) => {
    const c = url.searchParams.get("after");
    const headers: Record<string, string> = c === null
      ? { "X-Cursor": "abc" }
      : c === "abc"
      ? { "x-cursor": "def" }
      : {};
    return json(ids(1), { headers });
  });
  try {
    const rows = await paginate(s, {
      type: "header_cursor",
      cursor_key: "x-cursor",
      cursor_param: "after",
    }, { url: "x" });
    assert.equal(rows.length, 3);
    assert.deepEqual(s.requests.map((r) => r.url.searchParams.get("after")), [null, "abc", "def"]);
  } finally {
    await s.close();
  }
});

Deno.test("cursor paginator: cursor_path, empty pages go on by default, has_more_path", async () => {
  const s = startServer((_r, url) => {
    const c = Number(url.searchParams.get("cursor") ?? "0");
    return json({
      data: c === 1 ? [] : ids(1, c),
      cursors: { next: c < 3 ? String(c + 1) : null },
      more: c < 2,
    });
  });
  try {
    assert.equal((await paginate(s, "cursor", { url: "x" }, "data")).length, 3);
    assert.equal(s.requests.length, 4);
    s.requests.length = 0;
    await paginate(s, { type: "cursor", stop_after_empty_page: true }, { url: "x" }, "data");
    assert.equal(s.requests.length, 2);
    s.requests.length = 0;
    await paginate(s, { type: "cursor", has_more_path: "more" }, { url: "x" }, "data");
    assert.equal(s.requests.length, 3);
  } finally {
    await s.close();
  }
});

Deno.test("cursor paginator puts the cursor in the JSON body with cursor_body_path", async () => {
  const s = startServer((_req, _url, _n, text) => {
    const body = JSON.parse(text || "{}");
    const c = body.page?.after ?? 0;
    return json({ data: ids(1, c), next: c < 2 ? c + 1 : null });
  });
  try {
    const rows = await paginate(
      s,
      {
        type: "cursor",
        cursor_path: "next",
        cursor_body_path: "page.after",
      },
      { url: "search", method: "POST", json: { q: "x" } },
      "data",
    );
    assert.equal(rows.length, 3);
    assert.deepEqual(JSON.parse(s.requests[2].body), { q: "x", page: { after: 2 } });
    assert.equal(s.requests[2].url.searchParams.has("cursor"), false);
  } finally {
    await s.close();
  }
});

function offsetServer(total: number, withTotal: boolean) {
  return startServer((_r, url) => {
    const off = Number(url.searchParams.get("offset"));
    const lim = Number(url.searchParams.get("limit"));
    const rows = ids(Math.max(0, Math.min(lim, total - off)), off + 1);
    return json(withTotal ? { items: rows, total } : { items: rows });
  });
}

Deno.test("offset paginator: total, limit on every request, maximum_offset, empty page", async () => {
  const s = offsetServer(5, true);
  try {
    assert.deepEqual(await paginate(s, { type: "offset", limit: 2 }, { url: "x" }), ids(5));
    assert.deepEqual(
      s.requests.map((r) => [r.url.searchParams.get("offset"), r.url.searchParams.get("limit")]),
      [["0", "2"], ["2", "2"], ["4", "2"]],
    );
    s.requests.length = 0;
    assert.equal(
      (await paginate(s, { type: "offset", limit: 2, maximum_offset: 4 }, { url: "x" })).length,
      4,
    );
  } finally {
    await s.close();
  }
  const n = offsetServer(5, false);
  try {
    await assert.rejects(
      paginate(n, { type: "offset", limit: 2 }, { url: "x" }),
      /total_path "total" not found/,
    );
    n.requests.length = 0;
    assert.deepEqual(
      await paginate(n, { type: "offset", limit: 2, total_path: null }, { url: "x" }),
      ids(5),
    );
    assert.equal(n.requests.length, 4); // the last one is empty
  } finally {
    await n.close();
  }
  assert.throws(() => createPaginator({ type: "offset" }), /option "limit" is required/);
});

function pageServer(pages: number, base: number, body: (rows: Json, page: number) => Json) {
  return startServer((_r, url) => {
    const page = Number(url.searchParams.get("page") ?? String(base));
    const rows = page - base < pages ? ids(2, (page - base) * 2 + 1) : [];
    return json(body(rows, page));
  });
}

Deno.test("page_number paginator: defaults and total_path like dlt", async () => {
  // total_path defaults to "total" (a number of pages) and base_page to 0
  let s = pageServer(3, 0, (rows) => ({ data: rows, total: 3 }));
  try {
    assert.deepEqual(await paginate(s, "page_number", { url: "x" }), ids(6));
    assert.deepEqual(s.requests.map((r) => r.url.searchParams.get("page")), ["0", "1", "2"]);
  } finally {
    await s.close();
  }
  // a missing total raises
  s = pageServer(3, 1, (rows) => rows);
  try {
    await assert.rejects(
      paginate(s, { type: "page_number", base_page: 1 }, { url: "x" }),
      (e) => e instanceof UserError && /total_path "total" not found/.test(e.message),
    );
    // null or "" disables it; stops on the empty page
    for (const total_path of [null, ""]) {
      s.requests.length = 0;
      const rows = await paginate(s, { type: "page_number", base_page: 1, total_path }, {
        url: "x",
      });
      assert.deepEqual(rows, ids(6));
      assert.deepEqual(s.requests.map((r) => r.url.searchParams.get("page")), ["1", "2", "3", "4"]);
    }
    // maximum_page
    s.requests.length = 0;
    await paginate(s, { type: "page_number", base_page: 1, total_path: null, maximum_page: 3 }, {
      url: "x",
    });
    assert.equal(s.requests.length, 2);
    // page sets the first page; page_param renames
    s.requests.length = 0;
    await paginate(s, { type: "page_number", base_page: 1, page: 3, total_path: null }, {
      url: "x",
    });
    assert.deepEqual(s.requests.map((r) => r.url.searchParams.get("page")), ["3", "4"]);
  } finally {
    await s.close();
  }
  // total_path elsewhere, base_page 1: stops at total + base
  s = pageServer(3, 1, (rows) => ({ data: rows, meta: { total_pages: "3" } }));
  try {
    await paginate(s, { type: "page_number", base_page: 1, total_path: "meta.total_pages" }, {
      url: "x",
    });
    assert.equal(s.requests.length, 3);
  } finally {
    await s.close();
  }
  assert.throws(
    () => createPaginator({ type: "page_number", total_path: null, stop_after_empty_page: false }),
    /never stops/,
  );
});

Deno.test("page_number paginator with the seed's client settings (dlt-init-openapi)", async () => {
  const s = pageServer(30, 0, (rows) => rows);
  try {
    await paginate(s, {
      type: "page_number",
      page_param: "page",
      total_path: "",
      maximum_page: 20,
    }, { url: "x" });
    assert.equal(s.requests.length, 20);
    assert.equal(s.requests[19].url.searchParams.get("page"), "19");
  } finally {
    await s.close();
  }
});

Deno.test("single_page paginator sends one request", async () => {
  const s = gitlabServer(100);
  try {
    assert.equal((await paginate(s, "single_page", { url: "x" })).length, 20);
    assert.equal(s.requests.length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("auto paginator detects in dlt's order", async () => {
  const cases: [string, (url: URL) => Response, number][] = [
    ["header_link", (url) => {
      const p = Number(url.searchParams.get("page") ?? "1");
      return json(ids(1), { headers: p < 2 ? { link: `<?page=2>; rel="next"` } : {} });
    }, 2],
    ["json_link", (url) => {
      const p = Number(url.searchParams.get("page") ?? "1");
      return json({ results: ids(1), next: p < 3 ? `http://x.invalid/?page=${p + 1}` : null });
    }, 0],
    ["page_number", (url) => {
      const p = Number(url.searchParams.get("page") ?? "0");
      return json({ items: p < 3 ? ids(1) : [], total_pages: 3 });
    }, 3],
    ["cursor", (url) => {
      const c = url.searchParams.get("cursor");
      return json({ items: ids(1), next_cursor: c === null ? "n1" : null });
    }, 2],
    ["single_page", () => json(ids(3)), 1],
    // dlt matches keys that start with "next" and takes only a string or number: `has_next`
    // (a bool) is no cursor (it used to be taken, asking `?cursor=true` for ever), the cursor
    // is the `next_cursor` after it
    ["cursor", (url) => {
      const c = url.searchParams.get("cursor");
      if (c !== null && c !== "p2") return json({ message: `bad cursor ${c}` }, { status: 400 });
      return json({ items: ids(1), has_next: c === null, next_cursor: c === null ? "p2" : null });
    }, 2],
    // a next object is searched for href/url keys; total_pages as a string counts too
    ["json_link", (url) => {
      const p = Number(url.searchParams.get("page") ?? "1");
      return json({ data: ids(1), next: { meta: 1, href: p < 2 ? "/?page=2" : null } });
    }, 0],
    ["page_number", (url) => {
      const p = Number(url.searchParams.get("page") ?? "0");
      return json({ items: p < 2 ? ids(1) : [], pagination: { TotalPages: "2" } });
    }, 2],
  ];
  for (const [name, handler, requests] of cases) {
    const s = startServer((_r, url) => handler(url));
    try {
      const client = new HttpClient({ baseUrl: s.origin, sleep: noSleep });
      const p = createPaginator(undefined) as AutoPaginator;
      let req: HttpRequest | undefined = p.init({ url: "x" });
      let n = 0;
      while (req && n < 10) {
        const res = (await client.request(req))!;
        n++;
        req = p.update(res, selectPageData(res.body));
        if (name === "json_link") break; // its next URL points elsewhere; detection is enough
      }
      assert.equal(p.detected, name);
      if (requests > 0) assert.equal(s.requests.length, requests, name);
    } finally {
      await s.close();
    }
  }
});

Deno.test("createPaginator() rejects unknown types and bad options", () => {
  assert.throws(() => createPaginator("pages"), /unknown type, use one of auto, single_page/);
  assert.throws(
    () => createPaginator({ type: "offset", limit: "ten" }),
    /option "limit" must be an integer/,
  );
});
