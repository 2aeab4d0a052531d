import assert from "node:assert/strict";
import { clearSecrets, redact } from "../../lib/common/redact.ts";

Deno.test("redact() masks token query parameters up to the end of their value", () => {
  clearSecrets();
  const cases: [string, string][] = [
    // a URL in parentheses keeps its closing one (before: eaten with the token)
    [
      "failed (GET https://gl.example/api/v4/projects?private_token=glpat-abc)",
      "failed (GET https://gl.example/api/v4/projects?private_token=***)",
    ],
    [
      "https://gl.example/api/v4/x?per_page=100&job_token=abc-123&page=2",
      "https://gl.example/api/v4/x?per_page=100&job_token=***&page=2",
    ],
    [
      '"https://gl.example/?access_token=a.b_c" next',
      '"https://gl.example/?access_token=***" next',
    ],
    // a value with parentheses of its own is masked whole
    ["?password=a(b)c) end", "?password=***) end"],
    ["?token=abc#frag", "?token=***#frag"],
    // a "(" it does not close: the rest of the value is masked too
    ["https://h/x?password=se(cret&a=1", "https://h/x?password=***&a=1"],
  ];
  for (const [text, want] of cases) assert.equal(redact(text), want, text);
});

Deno.test("redact() masks passwords in URLs and auth headers", () => {
  clearSecrets();
  assert.equal(
    redact("postgresql://loader:pw@host:5432/db (x)"),
    "postgresql://loader:***@host:5432/db (x)",
  );
  assert.equal(redact('{"PRIVATE-TOKEN": "glpat-x1"}'), '{"PRIVATE-TOKEN": "***"}');
  assert.equal(redact("Authorization: Bearer abc.def"), "Authorization: ***");
});
