import assert from "node:assert/strict";
import {
  bumpStateVersion,
  compressState,
  decompressState,
  type PipelineState,
  stateVersionHash,
} from "../../lib/pipeline/state.ts";
import { unselectedChildWarnings } from "../../lib/pipeline/run.ts";
import { loadCatalog } from "../../lib/catalog/mod.ts";

function sampleState(): PipelineState {
  return {
    _state_version: 3,
    _state_engine_version: 4,
    _version_hash: "old",
    pipeline_name: "gitlab_pipeline",
    dataset_name: "gitlab_data",
    default_schema_name: "gitlab",
    schema_names: ["gitlab"],
    destination_type: "dlt.destinations.postgres",
    destination_name: null,
    staging_type: null,
    staging_name: null,
    sources: {
      gitlab: {
        resources: {
          issues: {
            incremental: {
              updated_at: {
                initial_value: "2024-01-01T00:00:00Z",
                last_value: "2024-05-01T10:00:00.000Z",
                unique_hashes: ["abc"],
              },
            },
          },
        },
      },
    },
    _local: { first_run: false },
  };
}

// Expected values were computed with Python's hashlib/zlib following dlt's
// generate_state_version_hash / compress_state (sorted compact JSON, sha3-256, zlib level 9).
const PY_HASH = "lUqpMHi05Lnl7FvxChpdBiz6KGsOLSkgXYfNx8TMhYE=";
const PY_COMPRESSED =
  "eNpdkdFuwyAMRf+F5y6iXfeS79jTpgq5iZcgOSSLTaWp2r/PLomWFPEA9x6bC9xdYAHBcMOZ45hc/XpYJUxdTBvnrM6yCT1w72o3UusObooTkqEJBlS1i0JwDausRAsCjPIEmGomfkEmCdz0OMCeUXsjs6s/V+NihSwxgVgg+ZmsqiWpNjJX08jSzVq5x8shKRPpAQJ60W5psdd23JjnxjLc1wy60tb/cmTOyyo1Mw6YBMi2edK7YhtAihklAoUbULbQJ386v/ijznfv68f80LwELE/MmzHHhal84XKK3xkfX1JeCK6Nu/yW8Qd4VadC";

Deno.test("stateVersionHash() matches dlt's algorithm (Python reference)", () => {
  assert.equal(stateVersionHash(sampleState()), PY_HASH);
});

Deno.test("stateVersionHash() ignores _local and version fields", () => {
  const a = sampleState();
  const b = { ...sampleState(), _local: { x: 1 }, _state_version: 99, _version_hash: "zz" };
  assert.equal(stateVersionHash(a), stateVersionHash(b));
});

Deno.test("bumpStateVersion() bumps only when content changes", () => {
  const s = sampleState();
  assert.equal(bumpStateVersion(s), true);
  assert.equal(s._state_version, 4);
  assert.equal(s._version_hash, PY_HASH);
  assert.equal(bumpStateVersion(s), false);
  assert.equal(s._state_version, 4);
  s.dataset_name = "other";
  assert.equal(bumpStateVersion(s), true);
  assert.equal(s._state_version, 5);
});

Deno.test("decompressState() reads a state compressed by Python dlt", () => {
  const s = decompressState(PY_COMPRESSED);
  const { _local: _, ...expected } = sampleState();
  assert.deepEqual(s, expected);
});

Deno.test("compressState() round-trips and drops _local", () => {
  const s = sampleState();
  const back = decompressState(compressState(s));
  assert.equal(back._local, undefined);
  assert.deepEqual(back.sources, s.sources);
});

Deno.test("decompressState() falls back to plain JSON", () => {
  assert.deepEqual(decompressState('{"pipeline_name":"p"}'), { pipeline_name: "p" });
});

Deno.test("chooseState() prefers the newest pending package, then a newer destination", async () => {
  const { chooseState, newState } = await import("../../lib/pipeline/state.ts");
  const local = { ...newState("p", "d"), _state_version: 3, _local: { first_run: false, x: 1 } };
  const pending = { ...newState("p", "d"), _state_version: 4, _version_hash: "pending-hash" };
  const dest = { ...newState("p", "other"), _state_version: 2 };
  const a = chooseState(local, { pending, destination: dest, dataset: "d" });
  assert.equal(a.source, "pending");
  assert.equal(a.state!._state_version, 4);
  // the pending state is already extracted: it is not written into the next package again
  assert.deepEqual(a.state!._local, {
    first_run: false,
    x: 1,
    _last_extracted_hash: "pending-hash",
  });
  const b = chooseState(undefined, { destination: dest, dataset: "d" });
  assert.equal(b.source, "destination");
  assert.equal(b.state!.dataset_name, "d");
  assert.equal(chooseState(local, { destination: dest, dataset: "d" }).source, "local");
  assert.equal(chooseState(undefined, { dataset: "d" }).source, "none");
});

Deno.test("crashHook() exits with 137 at the n-th time a point is reached", async () => {
  const { crashHook } = await import("../../lib/pipeline/crash.ts");
  const codes: number[] = [];
  const hook = crashHook("page:2", { exit: (c) => codes.push(c) });
  hook("page");
  hook("extracted");
  assert.deepEqual(codes, []);
  hook("page");
  assert.deepEqual(codes, [137]);
  crashHook(undefined)("page");
});

Deno.test("decompressState() reads dlt's typed values (datetime cursors) as their text", () => {
  // compressed by Python (zlib level 9) from a state whose cursor values are dlt-typed datetimes
  const fromDlt =
    "eNptjkEKwkAMRe+SrS1MS930HO5EhtiGdmA6rZNMN0XwNh7PK2jUQhFDCD8vnyQLWBYUsjNFdmOAushWRKFzYTOpMpjcRF5hwIGghgkyaFGQSVbUvhCPKTbEUC/QOfF4VhVpgx1z+qrQRBooCHpt0/TaR61F0c4ji53RJ938uN1LU1a52eemOBSmNpq7d9WjgvGPuVKz+TWn4C6JbI/c6xvH0/UTTyYiWxA=";
  const state = decompressState(fromDlt);
  const cursor = state.sources!.gitlab.resources!.issues.incremental as Record<
    string,
    Record<string, unknown>
  >;
  assert.equal(cursor.updated_at.last_value, "2024-05-01T10:00:00+00:00");
  assert.equal(cursor.updated_at.start_value, "2024-04-01T00:00:00+00:00");
});

Deno.test("--resources with an incremental parent but not its child warns that the child falls behind", async () => {
  const catalog = await loadCatalog();
  const [warning, ...rest] = unselectedChildWarnings(catalog, ["issues"]);
  assert.match(warning, /^Resource "issues" runs without its child "issue_notes": /);
  assert.match(warning, /--resources issues,issue_notes\)$/);
  assert.deepEqual(rest, []);
  assert.deepEqual(unselectedChildWarnings(catalog, ["issues", "issue_notes"]), []);
  assert.deepEqual(unselectedChildWarnings(catalog, undefined), []);
  // a parent read in full (no cursor) leaves nothing behind
  assert.deepEqual(unselectedChildWarnings(catalog, ["groups"]), []);
});
