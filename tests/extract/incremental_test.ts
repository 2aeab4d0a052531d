import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { IncrementalConfig, ResolvedResource } from "../../lib/catalog/types.ts";
import { JsonFloat, JsonInteger } from "../../lib/common/lossless_json.ts";
import {
  applyLag,
  compareCursorValues,
  Cursors,
  dltJsonDumps,
  type ResourcesState,
  uniqueHash,
} from "../../lib/extract/incremental.ts";

function resource(name: string, incremental: IncrementalConfig): ResolvedResource {
  return {
    name,
    primaryKey: ["id"],
    endpoint: { path: name, incremental },
  } as unknown as ResolvedResource;
}

const issues = resource("issues", { cursor_path: "updated_at", start_param: "updated_after" });
const rec = (id: number, updated_at: string) => ({ id, updated_at });

Deno.test("Cursors keep per-parent cursors in dlt's shape and drop boundary duplicates", () => {
  const state: ResourcesState = {};
  const run1 = new Cursors(state, { startDate: "2024-01-01" });
  const c1 = run1.open(issues, { name: "projects", record: { id: 7 } })!;
  assert.equal(c1.values().start_value, "2024-01-01");
  const kept = c1.filter([
    rec(1, "2023-12-31T00:00:00Z"),
    rec(2, "2024-02-01T00:00:00Z"),
    rec(3, "2024-02-01T00:00:00Z"),
  ]);
  assert.deepEqual(kept.records.map((r) => (r as { id: number }).id), [2, 3]);
  assert.deepEqual(state, {}, "nothing stored before commit");
  run1.commit();
  const slot = (state.issues.incremental_per_parent as Record<string, Record<string, unknown>>)["7"]
    .updated_at as { last_value: string; unique_hashes: string[]; initial_value: string };
  assert.equal(slot.last_value, "2024-02-01T00:00:00Z");
  assert.equal(slot.initial_value, "2024-01-01");
  assert.deepEqual(slot.unique_hashes, [
    uniqueHash(rec(2, ""), ["id"]),
    uniqueHash(rec(3, ""), ["id"]),
  ]);

  const run2 = new Cursors(state);
  const c2 = run2.open(issues, { name: "projects", record: { id: 7 } })!;
  assert.equal(c2.values().start_value, "2024-02-01T00:00:00Z");
  const again = c2.filter([
    rec(2, "2024-02-01T00:00:00Z"),
    rec(4, "2024-02-01T00:00:00Z"),
    rec(5, "2024-03-01T00:00:00Z"),
  ]);
  assert.deepEqual(again.records.map((r) => (r as { id: number }).id), [4, 5]);
  // another parent starts from the initial value
  assert.equal(
    run2.open(issues, { name: "projects", record: { id: 8 } })!.values().start_value,
    null,
  );
});

Deno.test("Cursor applies end_value (not persisted), lag, min and row_order", () => {
  const state: ResourcesState = {};
  const backfill = resource("b", {
    cursor_path: "n",
    initial_value: 10,
    end_value: 20,
    row_order: "asc",
  });
  const cs = new Cursors(state);
  const out = cs.open(backfill)!.filter([{ n: 9 }, { n: 10 }, { n: 19 }, { n: 20 }]);
  assert.deepEqual(out.records, [{ n: 10 }, { n: 19 }]);
  assert.equal(out.stop, true);
  cs.commit();
  assert.deepEqual(state, {});

  const lagged = resource("l", { cursor_path: "t", lag: 60 });
  const st: ResourcesState = {
    l: {
      incremental: {
        t: { initial_value: null, last_value: "2024-01-01T00:01:00.000Z", unique_hashes: [] },
      },
    },
  };
  assert.equal(new Cursors(st).open(lagged)!.values().start_value, "2024-01-01T00:00:00.000Z");
  assert.equal(applyLag(100, 5, "min"), 105);
  // dlt's apply_lag: a string keeps its form, the lag never crosses initial_value, and a cursor
  // still at initial_value is not lagged
  const day = 86_400;
  assert.equal(applyLag("2024-01-20T00:00:00Z", 3 * day, "max"), "2024-01-17T00:00:00Z");
  assert.equal(applyLag("2024-01-20T01:30:00.5+02:00", 3600, "max"), "2024-01-20T00:30:00.5+02:00");
  assert.equal(applyLag("2024-01-20", day, "max"), "2024-01-19");
  assert.equal(applyLag("2024-01-20 10:00:00.123456", 1, "min"), "2024-01-20 10:00:01.123456");
  const initial = "2024-01-10T00:00:00Z";
  assert.equal(applyLag(initial, 3 * day, "max", initial), initial);
  assert.equal(applyLag("2024-01-11T00:00:00Z", 3 * day, "max", initial), initial);
  assert.equal(applyLag(100, 30, "max", 90), 90);
  assert.equal(applyLag(100, 5, "max", 90), 95);
  const first = resource("f", { cursor_path: "t", initial_value: initial, lag: 3 * day });
  assert.equal(new Cursors({}).open(first)!.values().start_value, initial);

  const min = resource("m", { cursor_path: "n", last_value_func: "min", initial_value: 50 });
  assert.deepEqual(new Cursors({}).open(min)!.filter([{ n: 60 }, { n: 40 }]).records, [{ n: 40 }]);
});

Deno.test("Cursor raises, includes or excludes records without a cursor value", () => {
  const raise = resource("r", { cursor_path: "t" });
  assert.throws(
    () => new Cursors({}).open(raise)!.filter([{ id: 1 }]),
    /Cannot read the cursor of resource "r"/,
  );
  const include = resource("i", { cursor_path: "t", on_cursor_value_missing: "include" });
  assert.equal(new Cursors({}).open(include)!.filter([{ id: 1 }]).records.length, 1);
  const exclude = resource("e", { cursor_path: "t", on_cursor_value_missing: "exclude" });
  assert.equal(new Cursors({}).open(exclude)!.filter([{ id: 1 }]).records.length, 0);
});

Deno.test("dltJsonDumps() is dlt's json.dumps(sort_keys=True): orjson's compact UTF-8 form", () => {
  assert.equal(dltJsonDumps({ b: [1, 2.5], a: "é" }), '{"a":"é","b":[1,2.5]}');
  assert.equal(dltJsonDumps(1.0), "1");
  assert.equal(dltJsonDumps(new JsonFloat(1)), "1.0");
  assert.equal(dltJsonDumps(new JsonInteger(12345678901234567890n)), "12345678901234567890");
  assert.equal(dltJsonDumps([1e16, 1.5e-7, "a\nb"]), '[1e16,1.5e-7,"a\\nb"]');
  // keys sorted by code point, as Python sorts str (U+FF61 before U+1F600, unlike UTF-16 units)
  assert.equal(dltJsonDumps({ "😀": 1, "｡": 2, "a": 3 }), '{"a":3,"｡":2,"😀":1}');
  assert.equal(uniqueHash({ id: 1 }, ["id"]).length, 20);
});

Deno.test("uniqueHash() is dlt's digest128 of the key's json.dumps (shake_128, 15 bytes)", () => {
  const expected = (text: string) =>
    createHash("shake128", { outputLength: 15 }).update(text, "utf8").digest("base64")
      .replace(/=+$/, "");
  assert.equal(uniqueHash({ id: 1, x: "é" }, ["id"]), expected("1"));
  assert.equal(uniqueHash({ a: 1, b: "x" }, ["b", "a"]), expected('["x",1]'));
  assert.equal(uniqueHash({ b: "é", a: [1.5] }, []), expected('{"a":[1.5],"b":"é"}'));
  // the audit's record: what dlt (orjson) stores for it, not Python's spaced json.dumps
  assert.equal(
    uniqueHash({ id: 1, updated_at: "2024-01-03T00:00:00Z", x: { y: 1 } }, []),
    "R3K+iUWN4tT04Ewlgafc",
  );
});

Deno.test("Cursor boundary hashes: the records at the last value, each once, in the order seen", () => {
  // hashes are taken when the state is, not per record: check against the eager definition
  const n = (id: number, t: number) => ({ id, t });
  const pages = [
    [n(1, 1), n(2, 2), n(3, 2), n(2, 2)],
    [n(4, 3), n(5, 1), n(6, 3), n(4, 3)],
    // more records at one value than are kept unhashed, with repeats
    Array.from({ length: 2500 }, (_, i) => n(100 + (i % 1700), 9)),
    [n(7, 8)],
  ];
  const cursorResource = (primaryKey: string[]) =>
    ({
      name: "r",
      primaryKey,
      endpoint: { path: "r", incremental: { cursor_path: "t" } },
    }) as unknown as ResolvedResource;
  for (const pk of [["id"], []]) {
    const state: ResourcesState = {};
    const cursors = new Cursors(state);
    const cursor = cursors.open(cursorResource(pk))!;
    const expected: string[] = [];
    let last = -Infinity;
    for (const page of pages) {
      for (const r of cursor.filter(page).records) {
        const { t } = r as { t: number };
        const hash = uniqueHash(r, pk);
        if (t > last) expected.splice(0, expected.length, hash);
        else if (t === last && !expected.includes(hash)) expected.push(hash);
        last = Math.max(last, t);
      }
    }
    cursors.commit();
    const slot = state.r.incremental as Record<string, { last_value: number; unique_hashes: [] }>;
    assert.equal(slot.t.last_value, 9);
    assert.equal(expected.length, 1700);
    assert.deepEqual(slot.t.unique_hashes, expected, `primary key ${JSON.stringify(pk)}`);
  }
});

Deno.test("compareCursorValues() orders date-times as instants, UTC text of one layout by its text", () => {
  const sign = (n: number) => Math.sign(n);
  // random UTC timestamps in GitLab's layout (and without fraction, and with microseconds):
  // the text fast path agrees with the instants
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 2000; i++) {
    const ms = Date.UTC(2000 + rand(30), rand(12), 1 + rand(28), rand(24), rand(60), rand(60)) +
      rand(1000);
    const other = ms + (rand(3) - 1) * rand(5000);
    for (const cut of [24, 20, 27]) {
      const text = (t: number) => {
        const iso = new Date(t).toISOString(); // …T10:30:00.123Z
        return cut === 24 ? iso : cut === 20 ? iso.slice(0, 19) + "Z" : iso.slice(0, 23) + "456Z";
      };
      const [a, b] = [text(ms), text(other)];
      assert.equal(
        sign(compareCursorValues(a, b)),
        sign(Date.parse(a) - Date.parse(b)),
        `${a} ${b}`,
      );
    }
  }
  // layouts that differ, or carry an offset, still compare as instants
  assert.equal(compareCursorValues("2024-01-15T10:30:00.5Z", "2024-01-15T10:30:00.25Z") > 0, true);
  assert.equal(compareCursorValues("2024-01-15T12:00:00+02:00", "2024-01-15T11:00:00Z") < 0, true);
  assert.equal(
    compareCursorValues("2024-01-15T12:00:00+0200", "2024-01-15T10:30:00.000Z") < 0,
    true,
  );
  assert.equal(compareCursorValues("2024-01-15T10:30:00.000Z", "2024-01-15T10:30:00Z"), 0);
  // same length, not date-times: plain text order; numbers numerically
  assert.equal(
    compareCursorValues("2024-01-15X10:30:00.000Z", "2024-01-15X10:30:01.000Z") < 0,
    true,
  );
  assert.equal(compareCursorValues("abc", "abd") < 0, true);
  assert.equal(compareCursorValues(10, 9) > 0, true);
});
