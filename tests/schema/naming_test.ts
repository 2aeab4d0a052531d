import assert from "node:assert/strict";
import {
  breakPath,
  identifierTag,
  makePath,
  normalizeIdentifier,
  normalizePath,
  shortenFragments,
  shortenIdentifier,
} from "../../lib/normalize/naming.ts";

// expected values computed with a stdlib Python port of dlt 1.26 snake_case.py / naming.py

Deno.test("normalizeIdentifier() matches dlt's snake_case examples", () => {
  const cases: [string, string][] = [
    ["mergeRequests", "merge_requests"],
    ["HTTPResponseCode", "http_response_code"],
    ["X-Total-Pages", "x_total_pages"],
    ["123abc", "_123abc"],
    ["user@email", "useraemail"],
    ["trailing_", "trailingx"],
    ["Hello World!", "hello_worldx"],
    ["_links", "_links"],
    ["a+b*c|d", "axbxcld"],
    ["a__b", "a_b"],
    ["a__", "axx"],
    ["  spaced  ", "spaced"],
    ["Über straße", "_ber_stra_e"],
    ["getHTTP2Response", "get_http2_response"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeIdentifier(input), expected, input);
});

Deno.test("normalizeIdentifier() maps empty and whitespace keys to _empty", () => {
  assert.equal(normalizeIdentifier(""), "_empty");
  assert.equal(normalizeIdentifier("   "), "_empty");
  // Python's str.strip(), not JS trim(): U+001F and U+0085 are whitespace, U+FEFF is not
  assert.equal(normalizeIdentifier("\x1f"), "_empty");
  assert.equal(normalizeIdentifier("\x85 "), "_empty");
  assert.equal(normalizeIdentifier("\ufeffid"), "_id");
  assert.equal(normalizeIdentifier("\x1cid\u3000"), "id");
});

Deno.test("shortenIdentifier() tags long names like dlt (29 + tag + 28)", () => {
  assert.equal(identifierTag("hello"), "jrs2qq");
  const long =
    "ThisIsAVeryLongIdentifierThatDefinitelyExceedsTheSixtyThreeCharacterLimitOfPostgres";
  const short = normalizeIdentifier(long);
  assert.equal(short, "this_is_a_very_long_identifieuqrztg_character_limit_of_postgres");
  assert.equal(short.length, 63);
  assert.equal(shortenIdentifier("abc"), "abc");
  assert.equal(shortenIdentifier("abcdefghijkl", { maxLength: 10 }).length, 10);
});

Deno.test("normalizePath() normalizes each part and shortens the whole path", () => {
  assert.equal(normalizePath("Author__UserName"), "author__user_name");
  assert.equal(normalizePath("a____b"), "a__b");
  const path =
    "issues__very_long_nested_field_name_number_one__another_very_long_nested_field_name";
  assert.equal(
    shortenFragments(...path.split("__")),
    "issues__very_long_nested_fielejus1a_very_long_nested_field_name",
  );
});

Deno.test("makePath() and breakPath() skip empty parts", () => {
  assert.equal(makePath("a", "", " ", "b"), "a__b");
  assert.deepEqual(breakPath("__a__b__"), ["a", "b"]);
});
