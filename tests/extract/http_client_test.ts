import assert from "node:assert/strict";
import { HttpError } from "../../lib/common/errors.ts";
import { clearSecrets } from "../../lib/common/redact.ts";
import { parseCatalog } from "../../lib/catalog/parse.ts";
import { HttpClient, joinUrl, parseRetryAfter } from "../../lib/extract/http_client.ts";
import {
  json,
  noSleep,
  rawResponse,
  recordingSleep,
  startRawServer,
  startServer,
} from "./_helpers.ts";

const TOKEN = "glpat-SECRET-123456";

Deno.test("joinUrl() keeps the base URL's sub-path, like dlt", () => {
  const base = "https://host/gitlab/api/v4";
  assert.equal(joinUrl(base, "projects/1/issues"), "https://host/gitlab/api/v4/projects/1/issues");
  assert.equal(joinUrl(base + "/", "/projects"), "https://host/gitlab/api/v4/projects");
  assert.equal(joinUrl(base, "https://other/x?y=1"), "https://other/x?y=1");
  assert.equal(joinUrl(base, ""), base);
  // a query (or fragment) of the base URL goes after the path, its parameters kept
  assert.equal(
    joinUrl(`${base}?private_token=t`, "projects/1/issues"),
    "https://host/gitlab/api/v4/projects/1/issues?private_token=t",
  );
  assert.equal(
    joinUrl(`${base}/?a=1#frag`, "projects?b=2"),
    "https://host/gitlab/api/v4/projects?b=2&a=1",
  );
});

Deno.test("HttpClient.url() builds query params: arrays repeat, booleans true, null dropped", () => {
  const c = new HttpClient({ baseUrl: "https://host/gitlab/api/v4/" });
  const url = c.url({
    url: "/projects?page=1&keep=1",
    params: { page: 2, labels: "a,b", iids: [1, 2], archived: false, simple: true, x: null },
  });
  assert.equal(
    url,
    "https://host/gitlab/api/v4/projects?keep=1&page=2&labels=a%2Cb&iids=1&iids=2&archived=false&simple=true",
  );
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates", () => {
  assert.equal(parseRetryAfter("3", 0), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter("soon", 0), undefined);
  assert.equal(parseRetryAfter(null, 0), undefined);
});

Deno.test("HttpClient sends PRIVATE-TOKEN to the base URL with the sub-path kept", async () => {
  const s = startServer(() => json([{ id: 1 }]));
  try {
    const c = new HttpClient({ baseUrl: `${s.origin}/gitlab/api/v4`, source: { api_key: TOKEN } });
    const res = await c.request({ url: "projects/1/issues", params: { state: "all" } });
    assert.deepEqual(res?.body, [{ id: 1 }]);
    assert.equal(s.requests[0].url.pathname, "/gitlab/api/v4/projects/1/issues");
    assert.equal(s.requests[0].url.search, "?state=all");
    assert.equal(s.requests[0].headers.get("private-token"), TOKEN);
    assert.equal(s.requests[0].headers.get("job-token"), null);
    assert.equal(c.stats.requests, 1);
    assert.ok(c.stats.bytes > 0);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient uses the catalog auth: name, query location, bearer, basic", async () => {
  const s = startServer(() => json([]));
  try {
    const base = `${s.origin}/api/v4`;
    await new HttpClient({
      baseUrl: base,
      auth: { type: "api_key", name: "Private-Token" },
      source: { api_key: TOKEN },
    }).request({ url: "a" });
    await new HttpClient({
      baseUrl: base,
      auth: { type: "api_key", name: "private_token", location: "query", api_key: "catalog-key" },
    }).request({ url: "b" });
    await new HttpClient({ baseUrl: base, auth: { type: "bearer", token: "tok-1234" } })
      .request({ url: "c" });
    await new HttpClient({
      baseUrl: base,
      auth: { type: "http_basic", username: "u", password: "pässword" },
    }).request({ url: "d" });
    assert.equal(s.requests[0].headers.get("private-token"), TOKEN);
    assert.equal(s.requests[1].url.searchParams.get("private_token"), "catalog-key");
    assert.equal(s.requests[1].headers.get("private-token"), null);
    assert.equal(s.requests[2].headers.get("authorization"), "Bearer tok-1234");
    const basic = s.requests[3].headers.get("authorization")!;
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(basic.slice(6)), (ch) => ch.charCodeAt(0)),
    );
    assert.equal(decoded, "u:pässword");
    // a catalog api_key auth without a name: dlt's default name, Authorization, in both places
    await new HttpClient({ baseUrl: base, auth: { type: "api_key", api_key: "k-header" } })
      .request({ url: "e" });
    await new HttpClient({
      baseUrl: base,
      auth: { type: "api_key", api_key: "k-query", location: "query" },
    }).request({ url: "f" });
    assert.equal(s.requests[4].headers.get("authorization"), "k-header");
    assert.equal(s.requests[4].headers.get("private-token"), null);
    assert.equal(s.requests[5].url.searchParams.get("Authorization"), "k-query");
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient sends the configured token as dlt's string auth (`auth: bearer`) says", async () => {
  const s = startServer(() => json([]));
  try {
    for (const [i, form] of ["bearer", "http_basic", "api_key"].entries()) {
      const catalog = parseCatalog(`client:\n  auth: ${form}\nresources: [projects]\n`);
      assert.deepEqual(catalog.client.auth, { type: form });
      await new HttpClient({
        baseUrl: s.origin,
        auth: catalog.client.auth,
        source: { api_key: TOKEN },
      })
        .request({ url: `r${i}` });
    }
    assert.equal(s.requests[0].headers.get("authorization"), `Bearer ${TOKEN}`);
    // dlt's http_basic without a username or password: nothing to send but a job token
    assert.equal(s.requests[1].headers.get("authorization"), null);
    assert.equal(s.requests[2].headers.get("authorization"), TOKEN);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient sends JOB-TOKEN when no api key is configured", async () => {
  const s = startServer(() => json([]));
  try {
    const c = new HttpClient({ baseUrl: s.origin, source: { job_token: "ci-job-token-1" } });
    await c.request({ url: "projects/1/merge_requests" });
    await new HttpClient({
      baseUrl: s.origin,
      auth: { type: "api_key", name: "PRIVATE-TOKEN" },
      source: { job_token: "ci-job-token-1" },
    }).request({ url: "x" });
    for (const r of s.requests) {
      assert.equal(r.headers.get("job-token"), "ci-job-token-1");
      assert.equal(r.headers.get("private-token"), null);
    }
    assert.equal(c.authKind, "job_token");
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient retries 500, 502, 503 and 429 (Retry-After seconds and date, none)", async () => {
  // the test's clock moves only by the waits
  let now = 1_000_000;
  const s = startServer((_req, _url, n) => {
    if (n === 1) return new Response("boom", { status: 500 });
    if (n === 2) return new Response("bad gateway", { status: 502 });
    if (n === 3) {
      return new Response("unavailable", { status: 503, headers: { "retry-after": "7" } });
    }
    if (n === 4) {
      return new Response("Retry later", {
        status: 429,
        // the server's clock is the test's: its Date says so (else the real time would be)
        headers: {
          date: new Date(now).toUTCString(),
          "retry-after": new Date(now + 12_000).toUTCString(),
        },
      });
    }
    if (n === 5) return new Response("Retry later", { status: 429 });
    return json([{ id: 1 }]);
  });
  try {
    const waits: number[] = [];
    const c = new HttpClient({
      baseUrl: s.origin,
      sleep: (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
      random: () => 1,
      now: () => now,
      maxAttempts: 6,
    });
    const res = await c.request({ url: "projects" });
    assert.deepEqual(res?.body, [{ id: 1 }]);
    // full jitter (at its top here): 1 s, 2 s; then Retry-After 7 s and 12 s; then a 429
    // without a hint, the first in a row: 1 s (the limiter holds the next try)
    assert.deepEqual(waits, [1000, 2000, 7000, 12000, 1000]);
    assert.equal(c.stats.retries, 5);
    assert.equal(c.stats.requests, 6);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient backoff is capped at 60 s", async () => {
  const s = startServer(() => new Response("x", { status: 500 }));
  try {
    const { sleep, waits } = recordingSleep();
    const c = new HttpClient({ baseUrl: s.origin, sleep, random: () => 0.999, maxAttempts: 9 });
    await assert.rejects(c.request({ url: "p" }), HttpError);
    assert.equal(waits.length, 8);
    assert.ok(waits.every((w) => w <= 60_000));
    assert.ok(waits[7] > 59_000);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient error after the last attempt names resource and URL, token redacted", async () => {
  clearSecrets();
  const s = startServer(() => new Response("down", { status: 503 }));
  try {
    const c = new HttpClient({
      baseUrl: s.origin,
      auth: { type: "api_key", location: "query", name: "private_token" },
      source: { api_key: TOKEN },
      sleep: noSleep,
    });
    const err = await c.request({ url: `projects?x=${TOKEN}` }, { resource: "projects" })
      .catch((e) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
    assert.match(
      err.message,
      /^Cannot fetch resource "projects": GET http:\/\/127\.0\.0\.1:\d+\/projects\?x=\*\*\* failed after 5 attempts: HTTP 503/,
    );
    assert.ok(!err.message.includes(TOKEN));
    assert.ok(!err.url.includes(TOKEN));
    assert.equal(s.requests.length, 5);
    assert.equal(s.requests[0].url.searchParams.get("private_token"), TOKEN);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient: a 4xx body that echoes the token is masked before it is cut to 200 characters", async () => {
  clearSecrets();
  // the token straddles character 200 of the body: cut first, its first half would show
  const s = startServer(() => new Response(`${"A".repeat(190)}${TOKEN}`, { status: 403 }));
  try {
    const c = new HttpClient({ baseUrl: s.origin, source: { api_key: TOKEN }, sleep: noSleep });
    const err = await c.request({ url: "projects" }, { resource: "projects" }).catch((e) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.status, 403);
    assert.match(err.message, /AAAA\*\*\*\)$/);
    assert.ok(!err.message.includes(TOKEN.slice(0, 8)), err.message);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient stops at once on 401 with a message about the token", async () => {
  const s = startServer(() => json({ message: "401 Unauthorized" }, { status: 401 }));
  try {
    const c = new HttpClient({ baseUrl: s.origin, source: { api_key: TOKEN }, sleep: noSleep });
    const err = await c.request({ url: "projects" }, { resource: "projects" }).catch((e) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.status, 401);
    assert.equal(err.retryable, false);
    assert.match(
      err.message,
      /^GitLab rejected the token \(401 Unauthorized\): check sources\.gitlab\.api_key \/ SOURCES__GITLAB__API_KEY/,
    );
    assert.equal(s.requests.length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient does not retry 403/404 and reports the GitLab message", async () => {
  const s = startServer(() => json({ message: "404 Project Not Found" }, { status: 404 }));
  try {
    const c = new HttpClient({ baseUrl: s.origin, sleep: noSleep });
    const err = await c.request({ url: "projects/9" }, { resource: "p" }).catch((e) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.status, 404);
    assert.match(err.message, /GitLab answered HTTP 404 Not Found .*404 Project Not Found/);
    assert.equal(s.requests.length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient honours response_actions ignore", async () => {
  const s = startServer((_r, url) =>
    url.pathname === "/a"
      ? json({ message: "404 Not found" }, { status: 404 })
      : json({ error: "feature disabled" })
  );
  try {
    const c = new HttpClient({ baseUrl: s.origin });
    assert.equal(
      await c.request({ url: "a" }, { responseActions: [{ status_code: 404, action: "ignore" }] }),
      undefined,
    );
    assert.equal(
      await c.request({ url: "b" }, {
        responseActions: [{ content: "disabled", action: "ignore" }],
      }),
      undefined,
    );
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient retries a connection closed without an answer", async () => {
  const s = startRawServer((_head, n) => (n <= 2 ? null : rawResponse("200 OK", '[{"id":1}]')));
  try {
    const c = new HttpClient({ baseUrl: s.origin, sleep: noSleep });
    const res = await c.request({ url: "projects" });
    assert.deepEqual(res?.body, [{ id: 1 }]);
    assert.equal(c.stats.retries, 2);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient retries a body cut short (connection reset mid-body)", async () => {
  const full = JSON.stringify([{ id: 1 }, { id: 2 }]);
  const s = startRawServer((_head, n) => {
    if (n === 1) {
      // announces the full length, sends half, closes
      const r = rawResponse("200 OK", full);
      return r.slice(0, r.length - 8);
    }
    return rawResponse("200 OK", full);
  });
  try {
    const c = new HttpClient({ baseUrl: s.origin, sleep: noSleep });
    const res = await c.request({ url: "projects" });
    assert.deepEqual(res?.body, [{ id: 1 }, { id: 2 }]);
    assert.equal(c.stats.retries, 1);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient retries a body that is not valid JSON (truncated)", async () => {
  const s = startServer((_r, _u, n) =>
    n === 1
      ? new Response('[{"id":1},{"id"', { headers: { "content-type": "application/json" } })
      : json([{ id: 1 }, { id: 2 }])
  );
  try {
    const c = new HttpClient({ baseUrl: s.origin, sleep: noSleep });
    const res = await c.request({ url: "projects" });
    assert.deepEqual(res?.body, [{ id: 1 }, { id: 2 }]);
    assert.equal(c.stats.retries, 1);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient retries a timeout, then reports it", async () => {
  const s = startServer(async (_r, url, n) => {
    if (n === 1 || url.pathname === "/slow") await new Promise((r) => setTimeout(r, 300));
    return json([]);
  });
  try {
    const c = new HttpClient({ baseUrl: s.origin, sleep: noSleep, timeoutMs: 50 });
    assert.deepEqual((await c.request({ url: "p" }))?.body, []);
    assert.equal(c.stats.retries, 1);
    const c2 = new HttpClient({ baseUrl: s.origin, sleep: noSleep, timeoutMs: 50, maxAttempts: 2 });
    const err = await c2.request({ url: "slow" }).catch((e) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.status, 0);
    assert.match(err.message, /failed after 2 attempts: timed out after 0\.05 s/);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient: a wait for the rate limit does not count against the request timeout", async () => {
  // 600/min: starts 100 ms apart, so the 4th request waits ~300 ms, longer than its 150 ms
  // timeout; it must still be sent (once) and succeed
  const s = startServer(() => json([{ id: 1 }]));
  try {
    const c = new HttpClient({
      baseUrl: s.origin,
      maxRequestsPerMinute: 600,
      timeoutMs: 150,
      maxAttempts: 1,
      maxInFlight: 4,
      endpointLimits: [],
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => c.request({ url: `p/${i}` })));
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    assert.equal(s.requests.length, 4);
    assert.equal(c.stats.requests, 4);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient: a login page after a redirect says so, with its type and where it came from", async () => {
  const s = startServer((_r, url) =>
    url.pathname === "/api/v4/projects"
      ? new Response(null, { status: 302, headers: { location: "/users/sign_in" } })
      : new Response("<!DOCTYPE html><html><body>Sign in</body></html>", {
        headers: { "content-type": "text/html; charset=utf-8" },
      })
  );
  try {
    const c = new HttpClient({
      baseUrl: `${s.origin}/api/v4`,
      source: { api_key: TOKEN },
      sleep: noSleep,
      maxAttempts: 2,
    });
    const err = await c.request({ url: "projects" }, { resource: "projects" }).catch((e) => e);
    assert.ok(err instanceof HttpError, String(err));
    assert.match(
      err.message,
      /failed after 2 attempts: cannot parse the body as JSON \(48 bytes of text\/html, from http:\/\/127\.0\.0\.1:\d+\/users\/sign_in after a redirect\): .* \(a login page, or a proxy's, instead of GitLab's API\?\)$/,
    );
    assert.ok(!err.message.includes(TOKEN));
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient follows redirects itself and drops the token on another origin", async () => {
  const other = startServer(() => json([{ id: "other" }]));
  const s = startServer((_r, url) => {
    if (url.pathname === "/api/v4/same") {
      return new Response(null, { status: 302, headers: { location: "/api/v4/moved?x=1" } });
    }
    if (url.pathname === "/api/v4/away") {
      return new Response(null, {
        status: 307,
        headers: { location: `${other.origin}/steal?private_token=${TOKEN}` },
      });
    }
    return json([{ id: "same" }]);
  });
  try {
    const warned: string[] = [];
    const c = new HttpClient({
      baseUrl: `${s.origin}/api/v4`,
      source: { api_key: TOKEN },
      headers: { "X-Custom": "c" },
      onWarning: (w) => warned.push(w),
    });
    const same = await c.request({ url: "same" });
    assert.deepEqual(same?.body, [{ id: "same" }]);
    assert.equal(warned.length, 0);
    assert.equal(s.requests[1].url.pathname, "/api/v4/moved");
    assert.equal(s.requests[1].headers.get("private-token"), TOKEN);
    const away = await c.request({ url: "away" });
    assert.deepEqual(away?.body, [{ id: "other" }]);
    assert.equal(other.requests.length, 1);
    assert.equal(other.requests[0].headers.get("private-token"), null);
    assert.equal(other.requests[0].headers.get("x-custom"), null);
    assert.equal(other.requests[0].url.searchParams.get("private_token"), null);
    // a warning, once per origin, without the token the redirect echoed
    await c.request({ url: "away" });
    assert.equal(warned.length, 1);
    assert.ok(warned[0].startsWith(`Read GitLab from ${other.origin} (`), warned[0]);
    assert.ok(!warned[0].includes(TOKEN));
  } finally {
    await s.close();
    await other.close();
  }
});

Deno.test("HttpClient stops after 5 redirects", async () => {
  const s = startServer(() => new Response(null, { status: 302, headers: { location: "/loop" } }));
  try {
    const c = new HttpClient({ baseUrl: s.origin, sleep: noSleep });
    await assert.rejects(c.request({ url: "loop" }), /more than 5 redirects/);
    assert.equal(s.requests.length, 6);
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient stops waiting when its signal aborts", async () => {
  const s = startServer(() => new Response("x", { status: 503, headers: { "retry-after": "30" } }));
  try {
    const ac = new AbortController();
    const c = new HttpClient({ baseUrl: s.origin, signal: ac.signal });
    const started = Date.now();
    const pending = c.request({ url: "p" });
    setTimeout(() => ac.abort(new Error("cancelled by test")), 50);
    await assert.rejects(pending, /cancelled by test/);
    assert.ok(Date.now() - started < 5_000);
    assert.equal(s.requests.length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("a 404 of a route GitLab does not have points at base_url; a missing thing does not", async () => {
  const s = startServer((_r, url) => {
    if (url.pathname.endsWith("/project")) {
      return json({ message: "404 Project Not Found" }, { status: 404 });
    }
    if (url.pathname.endsWith("/route")) return json({ error: "404 Not Found" }, { status: 404 });
    return new Response("<html>nginx 404</html>", { status: 404 });
  });
  try {
    const c = new HttpClient({ baseUrl: `${s.origin}/api/v3`, sleep: noSleep });
    const hint = /this is not an API route of this GitLab: check sources\.gitlab\.base_url/;
    for (const [path, hinted] of [["project", false], ["route", true], ["page", true]] as const) {
      const err = await c.request({ url: path }).then(() => undefined, (e) => e);
      assert.ok(err instanceof HttpError && err.status === 404, String(err));
      assert.equal(hint.test(err.message), hinted, err.message);
    }
  } finally {
    await s.close();
  }
});

Deno.test("HttpClient counts a token in base_url's query as the token in use", () => {
  const base = "https://gitlab.example.com/api/v4";
  assert.equal(new HttpClient({ baseUrl: base, source: {} }).authKind, "none");
  assert.equal(
    new HttpClient({ baseUrl: `${base}?private_token=glpat-x`, source: {} }).authKind,
    "api_key",
  );
  assert.equal(
    new HttpClient({ baseUrl: `${base}?job_token=abc`, source: {} }).authKind,
    "job_token",
  );
});
