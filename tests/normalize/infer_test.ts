import assert from "node:assert/strict";
import {
  coerceValue,
  CoercionError,
  inferDataType,
  isIsoTimestamp,
  isoToUtc,
  JsonFloat,
  parseJson,
  SchemaEvolution,
} from "../../lib/normalize/mod.ts";
import { type DataType, newSchema } from "../../lib/schema/mod.ts";

const t = { table: "t" };

Deno.test("inferDataType() infers dlt types from the first value", () => {
  assert.equal(inferDataType("2016-01-04T15:31:51.081Z"), "timestamp");
  assert.equal(inferDataType("2016-01-04 15:31:51"), "timestamp");
  assert.equal(inferDataType("2016-07-22"), "text");
  assert.equal(inferDataType("2016-07-22", { detections: ["iso_date"] }), "date");
  assert.equal(inferDataType("hello"), "text");
  assert.equal(inferDataType(1), "bigint");
  assert.equal(inferDataType(2n ** 63n - 1n), "bigint");
  // beyond signed 64 bits: dlt's large_integer type (numeric(156,78) in Postgres)
  assert.equal(inferDataType(2n ** 63n), "wei");
  assert.equal(inferDataType(-(2n ** 63n) - 1n), "wei");
  assert.equal(inferDataType(1.5), "double");
  assert.equal(inferDataType(new JsonFloat(1)), "double");
  assert.equal(inferDataType(true), "bool");
  assert.equal(inferDataType(new Map()), "json");
  assert.equal(inferDataType([1]), "json");
});

Deno.test("isIsoTimestamp() needs a full datetime", () => {
  for (
    const s of ["2016-01-04T15:31", "20160104T153151Z", "2016-W01-1T10:00", "2016-004T10:00+01"]
  ) {
    assert.ok(isIsoTimestamp(s), s);
  }
  // year 0 is no Python date (datetime.MINYEAR is 1)
  for (
    const s of [
      "2016-01-04",
      "2016-13-01T00:00",
      "2016-02-30T00:00",
      "0000-01-01T00:00:00Z",
      "10:00",
      "abc",
      "",
    ]
  ) {
    assert.ok(!isIsoTimestamp(s), s);
  }
});

Deno.test("pendulum's common formats are timestamps too (dlt's parse_iso_like_datetime fallback)", () => {
  const cases: [string, string][] = [
    ["2024/01/15 10:30:00", "2024-01-15T10:30:00+00:00"],
    ["2024:01:15 10:30", "2024-01-15T10:30:00+00:00"],
    ["2024/0115 9:05:07", "2024-01-15T09:05:07+00:00"],
    ["2024/01/15 10:30:00,5", "2024-01-15T10:30:00.500000+00:00"],
    ["2024/01/15 10:30:00|1234567", "2024-01-15T10:30:00.123456+00:00"],
    ["2024 10:30", "2024-01-01T10:30:00+00:00"],
    ["2024/01/1510:30", "2024-01-15T10:30:00+00:00"],
    // Python's `$` matches before a last newline
    ["2024/01/15 10:30\n", "2024-01-15T10:30:00+00:00"],
    // Python's `\d` and int() take the digits of every script (fullwidth, Arabic-Indic)
    ["２０２４/０１/１５ １０:３０", "2024-01-15T10:30:00+00:00"],
    ["٢٠٢٤/٠١/١٥ ٠٩:٠٥:٠٧", "2024-01-15T09:05:07+00:00"],
  ];
  for (const [text, utc] of cases) {
    assert.ok(isIsoTimestamp(text), text);
    assert.equal(inferDataType(text), "timestamp", text);
    assert.equal(isoToUtc(text), utc, text);
    assert.equal(coerceValue(text, "timestamp"), utc, text);
  }
  for (
    const text of [
      "2024/01/15", // a date
      "10:30", // a time without a date
      "2024/01/15 10:", // no minute: pendulum fails on it
      "2024/13/15 10:30",
      "2024/02/30 10:30",
      "2024/01/15 24:00",
      "0000/01/01 10:00",
      "2024/01/15T10:30", // no `T` in the common formats
      "2024-01/15 10:30",
      "2024/01/15 10:30 ",
      "2024/01/15 10:30+01:00", // no offset either
      "2016T10", // pendulum's ISO parser wants a month after the year
    ]
  ) {
    assert.ok(!isIsoTimestamp(text), text);
    assert.equal(inferDataType(text), "text", text);
  }
  // iso_date (when enabled) takes the common dates and pendulum's shortest ISO date
  for (const text of ["2024/01/15", "2024:0115", "2024", "2016-01"]) {
    assert.equal(inferDataType(text, { detections: ["iso_date"] }), "date", text);
  }
  assert.equal(coerceValue("2024/01/15", "date"), "2024-01-15");
  assert.equal(inferDataType("201601", { detections: ["iso_date"] }), "text");
});

Deno.test("isoToUtc() gives Python's isoformat of the UTC datetime", () => {
  assert.equal(isoToUtc("2016-01-04T16:31:51.081+01:00"), "2016-01-04T15:31:51.081000+00:00");
  assert.equal(isoToUtc("2016-01-04T15:31:51Z"), "2016-01-04T15:31:51+00:00");
  assert.equal(isoToUtc("2016-01-04"), "2016-01-04T00:00:00+00:00");
  assert.equal(isoToUtc("0099-01-04T00:00:00"), "0099-01-04T00:00:00+00:00");
  assert.equal(isoToUtc("2016-01-04T15:31:51.1234567Z", false), "2016-01-04T15:31:51.123456");
});

Deno.test("isoToUtc() of GitLab's Z forms equals the general path's answer for +00:00", () => {
  // the character-checked fast path for `…T15:31:51.081Z` / `…T15:31:51Z` against the same
  // instant spelled with an offset (which takes the general parser), on mutated texts too:
  // digits out of range, non-digits, days past 28, wrong separators, every timezone flag
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const alphabet = "0123456789-T:.Z x9";
  let fast = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = [
      String(rand(3000)).padStart(4, "0"),
      "-",
      String(rand(14)).padStart(2, "0"),
      "-",
      String(rand(33)).padStart(2, "0"),
      "T",
      String(rand(26)).padStart(2, "0"),
      ":",
      String(rand(62)).padStart(2, "0"),
      ":",
      String(rand(62)).padStart(2, "0"),
      rand(2) ? "." + String(rand(1000)).padStart(3, "0") : "",
      "Z",
    ].join("");
    const chars = [...base];
    if (rand(4) === 0) chars[rand(chars.length)] = alphabet[rand(alphabet.length)];
    const text = chars.join("");
    const timezone = rand(2) === 0;
    const offset = text.endsWith("Z") ? text.slice(0, -1) + "+00:00" : text;
    const got = isoToUtc(text, timezone);
    assert.equal(got, isoToUtc(offset, timezone), text);
    if (got !== undefined) fast++;
  }
  assert.ok(fast > 3000, `${fast} valid texts`);
  assert.equal(isoToUtc("2016-01-04T15:31:51.000Z"), "2016-01-04T15:31:51+00:00");
  assert.equal(isoToUtc("2016-01-04T15:31:51.080Z", false), "2016-01-04T15:31:51.080000");
});

Deno.test("coerceValue() coerces what dlt coerces", () => {
  assert.equal(coerceValue(5, "text", { from: "bigint" }), "5");
  assert.equal(coerceValue(1e16, "text", { from: "double" }), "1e+16");
  assert.equal(coerceValue(true, "text", { from: "bool" }), "True");
  assert.equal(
    coerceValue(parseJson('{"b":1,"a":[1.0]}'), "text", { from: "json" }),
    '{"b":1,"a":[1.0]}',
  );
  assert.equal(coerceValue(" 123 ", "bigint", { from: "text" }), 123);
  assert.equal(coerceValue("0x1F", "bigint", { from: "text" }), 31);
  assert.equal(
    coerceValue("9223372036854775807", "bigint", { from: "text" }),
    9223372036854775807n,
  );
  // a value that Postgres bigint cannot hold goes to a variant column instead
  assert.throws(
    () => coerceValue("99999999999999999999", "bigint", { from: "text" }),
    CoercionError,
  );
  assert.throws(() => coerceValue(2n ** 64n, "bigint", { from: "wei" }), CoercionError);
  assert.equal(coerceValue(2n ** 64n, "wei", { from: "wei" }), 2n ** 64n);
  assert.equal(coerceValue(new JsonFloat(3), "bigint", { from: "double" }), 3);
  assert.equal(coerceValue(3, "double", { from: "bigint" }), 3);
  assert.equal(coerceValue("1.5e3", "double", { from: "text" }), 1500);
  assert.equal(coerceValue("yes", "bool", { from: "text" }), true);
  assert.equal(coerceValue(0, "bool", { from: "bigint" }), false);
  assert.equal(
    coerceValue("2016-01-04T15:31:51Z", "timestamp", { from: "text" }),
    "2016-01-04T15:31:51+00:00",
  );
  assert.equal(coerceValue(0, "timestamp", { from: "bigint" }), "1970-01-01T00:00:00+00:00");
  assert.equal(
    coerceValue("1.5", "timestamp", { from: "text" }),
    "1970-01-01T00:00:01.500000+00:00",
  );
  assert.deepEqual(coerceValue("[1]", "json", { from: "text" }), [1]);
});

Deno.test("coerceValue() throws CoercionError where dlt makes a variant", () => {
  const fails: [DataType, DataType, unknown][] = [
    ["bigint", "double", 3.7],
    ["bigint", "text", "abc"],
    ["bigint", "text", "1.0"],
    ["bigint", "bool", true],
    ["timestamp", "text", "not a date"],
    ["bool", "text", "maybe"],
    ["double", "json", [1]],
    ["json", "bigint", 1],
  ];
  for (const [to, from, v] of fails) {
    assert.throws(() => coerceValue(v, to, { from }), CoercionError, `${from} -> ${to}`);
  }
});

Deno.test("SchemaEvolution puts failing values into variant columns", () => {
  const schema = newSchema("test");
  const ev = new SchemaEvolution(schema);
  const row = (o: Record<string, unknown>) => new Map(Object.entries(o));
  ev.coerceRow(row({ id: 1, score: 1, when: "2016-01-04T15:31:51Z", n: null }), t);
  assert.deepEqual(Object.keys(schema.tables.t.columns), ["id", "score", "when"]);
  const out = ev.coerceRow(row({ id: "abc", score: 2.5, when: "soon", n: "x" }), t)!;
  assert.deepEqual([...out.keys()], ["id__v_text", "score__v_double", "when__v_text", "n"]);
  assert.deepEqual(schema.tables.t.columns["id__v_text"], {
    name: "id__v_text",
    data_type: "text",
    nullable: true,
    variant: true,
  });
  assert.deepEqual(ev.info.newVariantColumns.t, ["id__v_text", "score__v_double", "when__v_text"]);
  const ok = ev.coerceRow(row({ id: "12", score: 3.0 }), t)!;
  assert.deepEqual([...ok], [["id", 12], ["score", 3]]);
  const obj = ev.coerceRow(row({ id: new Map([["a", 1]]) }), t)!;
  assert.deepEqual([...obj.keys()], ["id__v_json"]);
  // a variant in the middle of a row: nulls dropped and values coerced before and after it,
  // the variant at the place of its value
  const mid = ev.coerceRow(
    row({ a: null, id: "12", score: "x", when: "2016-01-04T15:31:51Z", z: null, n: "y" }),
    t,
  )!;
  assert.deepEqual([...mid], [
    ["id", 12],
    ["score__v_text", "x"],
    ["when", "2016-01-04T15:31:51+00:00"],
    ["n", "y"],
  ]);
});

Deno.test("SchemaEvolution completes hinted columns and moves them to the end", () => {
  const schema = newSchema("test");
  schema.tables.t = {
    name: "t",
    columns: { id: { name: "id", nullable: false, primary_key: true } },
    write_disposition: "append",
    resource: "t",
  };
  const ev = new SchemaEvolution(schema);
  ev.coerceRow(new Map<string, unknown>([["a", 1], ["id", 5], ["_dlt_id", "x"]]), t);
  assert.deepEqual(Object.keys(schema.tables.t.columns), ["a", "id", "_dlt_id"]);
  assert.deepEqual(Object.entries(schema.tables.t.columns.id), [
    ["name", "id"],
    ["nullable", false],
    ["primary_key", true],
    ["data_type", "bigint"],
  ]);
  assert.deepEqual(schema.tables.t.columns._dlt_id, {
    name: "_dlt_id",
    data_type: "text",
    nullable: false,
    unique: true,
    row_key: true,
  });
  assert.throws(
    () => ev.coerceRow(new Map([["id", null]]), t),
    /column "id" is not nullable/,
  );
});

Deno.test("isoToUtc() gives the same text for `Z` (fast path) as for `+00:00` (full parser)", () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const two = (n: number) => String(n).padStart(2, "0");
  for (let i = 0; i < 5000; i++) {
    // years, months, days and times including out-of-range fields and day 29..31 edge cases
    const year = String([1000, 1900, 1970, 2000, 2024, 2100, 9999][rnd(7)] + rnd(3));
    const text = `${year}-${two(rnd(14))}-${two(rnd(33))}T${two(rnd(26))}:${two(rnd(62))}:${
      two(rnd(62))
    }${["", ".0", ".000", ".445", ".123456", ".1234567", ".100000000"][rnd(7)]}`;
    for (const timezone of [true, false]) {
      assert.equal(
        isoToUtc(`${text}Z`, timezone),
        isoToUtc(`${text}+00:00`, timezone),
        `${text}Z`,
      );
    }
  }
  assert.equal(isoToUtc("2024-05-08T20:13:40.445Z"), "2024-05-08T20:13:40.445000+00:00");
  assert.equal(isoToUtc("2024-05-08T20:13:40.000Z", false), "2024-05-08T20:13:40");
  assert.equal(isoToUtc("2023-02-29T00:00:00Z"), undefined);
});
