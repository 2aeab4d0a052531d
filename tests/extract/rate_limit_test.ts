import assert from "node:assert/strict";
import { HttpClient } from "../../lib/extract/http_client.ts";
import { knownEndpointLimits, RateLimiter } from "../../lib/extract/rate_limit.ts";
import { startFakeGitlab } from "../fake_gitlab/mod.ts";

/** A fake clock whose sleep advances it, recording every wait. */
function fakeTime(start = 1_000_000) {
  let now = start;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
    waits,
  };
}

Deno.test("RateLimiter spaces request starts by max_requests_per_minute", async () => {
  const t = fakeTime();
  const limiter = new RateLimiter({ maxRequestsPerMinute: 600, now: t.now, sleep: t.sleep });
  for (let i = 0; i < 5; i++) await limiter.acquire("/projects/1/issues");
  assert.deepEqual(t.waits, [100, 100, 100, 100]);
});

Deno.test("RateLimiter waits for RateLimit-Reset when RateLimit-Remaining is used up", async () => {
  const t = fakeTime(1_000_000);
  const limiter = new RateLimiter({ now: t.now, sleep: t.sleep });
  const ticket = await limiter.acquire("/projects");
  limiter.observe(
    ticket,
    new Headers({ "ratelimit-remaining": "0", "ratelimit-reset": String(1_000_000 / 1000 + 7) }),
  );
  await limiter.acquire("/projects");
  assert.deepEqual(t.waits, [7000]);
});

Deno.test("RateLimiter spreads the remaining budget until the reset and counts requests in flight", async () => {
  const t = fakeTime(1_000_000);
  const limiter = new RateLimiter({ now: t.now, sleep: t.sleep });
  const first = await limiter.acquire("/a");
  await limiter.acquire("/b"); // in flight when the first answer arrives
  limiter.observe(
    first,
    new Headers({ "ratelimit-remaining": "5", "ratelimit-reset": String(1_000_000 / 1000 + 8) }),
  );
  // 5 left, 1 already started since: 4 over 8 s → one every 2 s
  await limiter.acquire("/c");
  assert.deepEqual(t.waits, [2000]);
});

Deno.test("RateLimiter paces on RateLimit-Limit per minute and pause() holds everyone", async () => {
  const t = fakeTime();
  const limiter = new RateLimiter({ now: t.now, sleep: t.sleep });
  const ticket = await limiter.acquire("/a");
  limiter.observe(ticket, new Headers({ "ratelimit-limit": "1200" }));
  await limiter.acquire("/a");
  limiter.pause(3000);
  await limiter.acquire("/a");
  await limiter.acquire("/a", { ignorePause: true });
  assert.deepEqual(t.waits, [50, 3000, 50]);
});

Deno.test("knownEndpointLimits() paces GET /groups at GitLab.com's 50 per minute", async () => {
  const t = fakeTime();
  const limiter = new RateLimiter({
    endpointLimits: knownEndpointLimits("https://gitlab.com/api/v4"),
    now: t.now,
    sleep: t.sleep,
  });
  for (let i = 0; i < 51; i++) await limiter.acquire("/groups");
  await limiter.acquire("/projects/1/issues"); // another endpoint is not held
  assert.deepEqual(t.waits, [60_000]);
  const selfManaged = knownEndpointLimits("https://gitlab.example.com/api/v4");
  assert.equal(selfManaged.find((l) => l.name === "GET /groups")?.requests, 200);
});

Deno.test("HttpClient against a rate-limited GitLab: paced on its headers, no 429", async () => {
  await using gitlab = await startFakeGitlab({
    rateLimit: { requestsPerMinute: 5, windowMs: 1000 },
  });
  const client = new HttpClient({
    baseUrl: gitlab.url,
    source: { api_key: "glpat-test" },
    maxInFlight: 4,
  });
  await Promise.all(
    Array.from({ length: 12 }, () => client.request({ url: "projects", params: { per_page: 1 } })),
  );
  // the first 4 leave before any header is known; then the client follows the headers
  const limited = gitlab.requests.filter((r) => r.status === 429).length;
  assert.ok(limited <= 1, `${limited} responses were 429`);
  assert.ok(client.limiter.stats.waits > 0);
});

Deno.test("HttpClient: a 429 without headers backs off and holds the other requests", async () => {
  await using gitlab = await startFakeGitlab({});
  gitlab.faults.push({ kind: "status", status: 429, match: /\/projects$/, times: 1 });
  const waits: number[] = [];
  const client = new HttpClient({
    baseUrl: gitlab.url,
    source: { api_key: "glpat-test" },
    random: () => 0.5,
    backoffBaseMs: 400,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  const res = await client.request({ url: "projects" });
  assert.equal(res?.status, 200);
  assert.deepEqual(waits, [200]); // backoff, no Retry-After; the retry itself is not held again
  await client.request({ url: "groups" }); // another request waits out the rest of the pause
  assert.equal(waits.length, 2);
  assert.ok(waits[1] > 0 && waits[1] <= 200);
});
