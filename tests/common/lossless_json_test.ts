import assert from "node:assert/strict";
import { JsonFloat, JsonInteger, parseJsonLossless } from "../../lib/common/lossless_json.ts";

Deno.test("parseJsonLossless() keeps big integers and 1.0 through JSON.stringify", () => {
  const text =
    '{"a":9007199254740993,"b":-18446744073709551616,"c":1.0,"d":1e3,"e":1.5,"f":12,"g":[2.0,"x\\u0000"]}';
  const v = parseJsonLossless(text) as Record<string, unknown>;
  assert.ok(v.a instanceof JsonInteger);
  assert.equal((v.a as JsonInteger).value, 9007199254740993n);
  assert.ok(v.c instanceof JsonFloat);
  assert.equal(v.e, 1.5);
  assert.equal(v.f, 12);
  // compare like numbers
  assert.ok((v.a as unknown as number) > 9007199254740992);
  assert.ok((v.c as unknown as number) < 2);
  assert.equal(
    JSON.stringify(v),
    '{"a":9007199254740993,"b":-18446744073709551616,"c":1.0,"d":1000.0,"e":1.5,"f":12,"g":[2.0,"x\\u0000"]}',
  );
  // JSON.parse would have lost both
  assert.notEqual(JSON.stringify(JSON.parse(text)), JSON.stringify(v));
});

Deno.test("parseJsonLossless() takes the plain parse only when no number could change", async () => {
  const { mayHaveLossyNumber, parseJsonExact } = await import("../../lib/common/lossless_json.ts");
  // every number JSON.parse would change is caught, wherever it sits
  const lossy = [
    "1.0",
    " -2.00",
    "[9007199254740993]",
    '{"a": 1e3}',
    '{"a":1.5E+2}',
    '{"a":[1,\n  -12345678901234567890]}',
    '{"a":"x","b":0.0}',
    '{"a":{"b":[3, 4.000 ]}}',
    // a float literal whose value is an integer: Python reads 12345.0 (a double)
    '{"a":12345.00000000000001}',
    "[-1.0000000000000001]",
  ];
  for (const text of lossy) {
    assert.ok(mayHaveLossyNumber(text), text);
    assert.equal(JSON.stringify(parseJsonLossless(text)), JSON.stringify(parseJsonExact(text)));
    assert.notEqual(JSON.stringify(JSON.parse(text)), JSON.stringify(parseJsonExact(text)), text);
  }
  // GitLab's own bodies (timestamps with .000Z, versions, SHAs, ids) take the fast path
  const samples = new URL("../testdata/reference/gitlab-samples/", import.meta.url);
  let fast = 0;
  for await (const f of Deno.readDir(samples)) {
    if (!f.name.endsWith(".json")) continue;
    const text = await Deno.readTextFile(new URL(f.name, samples));
    assert.equal(JSON.stringify(parseJsonLossless(text)), JSON.stringify(parseJsonExact(text)));
    if (!mayHaveLossyNumber(text)) fast++;
  }
  assert.ok(fast >= 20, `only ${fast} sample bodies take the fast path`);
  for (const text of ['{"at":"2024-01-01T10:00:00.000Z","v":"1.0","n":1.5,"id":42}', "[]"]) {
    assert.equal(mayHaveLossyNumber(text), false, text);
  }
});

Deno.test("mayHaveLossyNumber() finds every changed number outside strings, none inside", async () => {
  const { mayHaveLossyNumber, parseJsonExact } = await import("../../lib/common/lossless_json.ts");
  // a number token that JSON.parse may change: what the scan must find (the regex it replaced)
  const flagged = (token: string) =>
    /^-?(?:\d{16}|\d+\.0+$|\d+(?:\.\d+)?[eE]|[\d.]{17})/.test(token);
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n;
  };
  const digits = (n: number) =>
    String(1 + random(9)) + Array.from({ length: n - 1 }, () => random(10)).join("");
  // at the edges of the rule: 16 digits (flagged, even below 2^53), 15 (not), 2^53 ± 1, and
  // fractions of 16 and 17 characters
  const edges = [
    "9007199254740993",
    "9007199254740991",
    "1234567890123456",
    "123456789012345",
    "0.9999999999999999",
    "12345.00000000000001",
    "123456789012345.5",
    "12345678901234.5",
  ];
  const number = () => {
    if (random(4) === 0) return (random(2) ? "-" : "") + edges[random(edges.length)];
    const sign = random(3) === 0 ? "-" : "";
    const int = random(8) === 0 ? "0" : digits(1 + random(random(4) === 0 ? 20 : 6));
    const fraction = [
      "",
      "",
      `.${"0".repeat(1 + random(3))}`,
      `.${digits(1 + random(18))}`,
      `.${"0".repeat(random(16))}1`,
    ][random(5)];
    const exponent = random(6) === 0
      ? ["e", "E"][random(2)] + ["", "+", "-"][random(3)] + digits(1 + random(2))
      : "";
    return sign + int + fraction + exponent;
  };
  // strings full of what would be lossy numbers outside them, and of escapes
  const string = () =>
    JSON.stringify(
      Array.from({ length: random(4) }, () =>
        [number(), '"', "\\", '\\"', ":1.0", ",[2e3", " 12345678901234567", "é"][random(8)]).join(
          "",
        ),
    );
  const space = () => ["", "", " ", "\n", "\t", "\r\n  "][random(6)];
  let found = 0;
  for (let round = 0; round < 3000; round++) {
    const tokens: string[] = [];
    const value = (depth: number): string => {
      const kind = random(depth > 2 ? 3 : 5);
      if (kind === 0) {
        const t = number();
        tokens.push(t);
        return t;
      }
      if (kind === 1) return string();
      if (kind === 2) return ["true", "false", "null"][random(3)];
      const items = Array.from({ length: random(4) }, () => value(depth + 1));
      return kind === 3
        ? `[${space()}${items.join(`${space()},${space()}`)}${space()}]`
        : `{${items.map((v) => `${string()}${space()}:${space()}${v}`).join(`,${space()}`)}}`;
    };
    const text = value(0);
    const expected = tokens.some(flagged);
    assert.equal(mayHaveLossyNumber(text), expected, text);
    if (expected) found++;
    // never a miss: a text whose plain parse differs from the exact one is always flagged
    if (!expected) {
      assert.equal(JSON.stringify(JSON.parse(text)), JSON.stringify(parseJsonExact(text)), text);
    }
  }
  assert.ok(found > 300 && found < 2700, `${found} of 3000 texts flagged`);
});
