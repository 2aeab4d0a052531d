import assert from "node:assert/strict";
import { sendFailureAlert } from "../../lib/pipeline/alerts.ts";
import { within } from "../helpers/deadline.ts";

Deno.test({
  name: "an alert to a webhook that never answers fails after its timeout, naming it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // accepts the connection and the request, never answers
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const open: Deno.Conn[] = [];
    (async () => {
      for await (const conn of listener) open.push(conn);
    })().catch(() => {});
    const hook = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/hooks/T000/B000/secret`;
    try {
      const started = performance.now();
      await assert.rejects(
        within(sendFailureAlert("p", new Error("boom"), hook, { timeoutMs: 300 }), 5000, "alert"),
        (e: unknown) =>
          e instanceof Error &&
          e.message === "Cannot send the failure alert: the webhook did not answer within 0.3 s",
      );
      assert.ok(performance.now() - started < 5000);
    } finally {
      listener.close();
      for (const c of open) c.close();
    }
  },
});

Deno.test("an alert to a webhook nobody listens on says why, without the hook's secret", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const hook = `http://127.0.0.1:${port}/hooks/T000/B000/s3cret-part`;
  const err = await sendFailureAlert("p", new Error("boom"), hook).catch((e) => e);
  assert.ok(err instanceof Error);
  assert.match(err.message, /^Cannot send the failure alert: fetch failed: .*(refused|Connect)/i);
  assert.doesNotMatch(err.message, /s3cret-part/);
});
