import assert from "node:assert/strict";
import { levelEnabled, levelOfLine } from "../../lib/common/log_level.ts";

Deno.test("levelEnabled() shows a line at or above the configured level", () => {
  assert.equal(levelEnabled("WARNING", "INFO"), false);
  assert.equal(levelEnabled("WARNING", "WARNING"), true);
  assert.equal(levelEnabled("info", "INFO"), true);
  assert.equal(levelEnabled("ERROR", "WARNING"), false);
  assert.equal(levelEnabled("DEBUG", "INFO"), true);
  // an unknown level behaves as the default, WARNING
  assert.equal(levelEnabled("loud", "INFO"), false);
});

Deno.test("levelOfLine() reads the level prefix of a pipeline log line", () => {
  assert.equal(levelOfLine("WARNING: Skipped resource"), "WARNING");
  assert.equal(levelOfLine("Normalizing pending package 1.2"), "INFO");
});
