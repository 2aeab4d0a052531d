import assert from "node:assert/strict";
import { findLink, parseLinkHeader } from "../../lib/extract/link_header.ts";

Deno.test("parseLinkHeader() reads several links with quoted, bare and listed rels", () => {
  const v = '<https://h/api/v4/p?a=1,2&page=2>; rel="next", <https://h/api/v4/p?page=1>; ' +
    'rel=first, <https://h/x;y>; title="a, b"; REL="Last Prev"';
  const links = parseLinkHeader(v);
  assert.equal(links.length, 3);
  assert.deepEqual(links[0].rels, ["next"]);
  assert.equal(links[0].url, "https://h/api/v4/p?a=1,2&page=2");
  assert.deepEqual(links[1].rels, ["first"]);
  assert.deepEqual(links[2].rels, ["last", "prev"]);
  assert.equal(links[2].url, "https://h/x;y");
  assert.equal(links[2].params.title, "a, b");
  assert.deepEqual(parseLinkHeader(null), []);
  assert.deepEqual(parseLinkHeader("garbage"), []);
});

Deno.test("findLink() is case-insensitive and resolves relative links", () => {
  const h = new Headers({ LINK: '</api/v4/projects?page=3>; rel="prev next"' });
  assert.equal(
    findLink(h, "NEXT", "https://gl.example/api/v4/projects?page=2"),
    "https://gl.example/api/v4/projects?page=3",
  );
  assert.equal(findLink(h, "last", "https://gl.example/"), undefined);
  assert.equal(findLink(new Headers(), "next", "https://gl.example/"), undefined);
});
