import assert from "node:assert/strict";
import { join } from "node:path";
import { readLineBatches, readLines } from "../../lib/storage/read_lines.ts";

/** Lines of many lengths with multi-byte characters, so that reads split lines and characters. */
function sampleLines(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const unit = ["a", "é", "€", "🎉", "\t"][i % 5];
    lines.push(`${i}:${unit.repeat((i * 97) % 1500)}`);
  }
  lines.push(""); // an empty line in the middle
  lines.push("x".repeat(3 << 20)); // longer than a read
  lines.push("last");
  return lines;
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("readLines() yields every line across reads, split characters and gzip", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-lines-" });
  try {
    const lines = sampleLines();
    for (const trailingNewline of [true, false]) {
      const text = lines.join("\n") + (trailingNewline ? "\n" : "");
      const plain = join(dir, `t${trailingNewline}.jsonl`);
      await Deno.writeTextFile(plain, text);
      const gz = join(dir, `t${trailingNewline}.jsonl.gz`);
      await Deno.writeFile(gz, await gzip(text));
      for (const path of [plain, gz]) {
        const got: string[] = [];
        for await (const line of readLines(path)) got.push(line);
        assert.equal(got.length, lines.length, path);
        assert.ok(got.every((l, i) => l === lines[i]), path);
        let batches = 0;
        for await (const batch of readLineBatches(path)) {
          assert.ok(batch.length > 0);
          batches++;
        }
        if (path === plain) assert.ok(batches > 1, "the file is read in more than one chunk");
      }
    }
    const empty = join(dir, "empty.jsonl");
    await Deno.writeTextFile(empty, "");
    for await (const _ of readLines(empty)) assert.fail("an empty file has no line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readLineBatches() stopped early leaves no read in flight and the file closed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "big.jsonl");
    const lines = sampleLines();
    await Deno.writeTextFile(path, lines.join("\n"));
    // the next chunk is read ahead while the caller works on this one: a caller that stops
    // after the first batch must not leak that read (the test's op sanitizer checks) or the file
    for await (const batch of readLineBatches(path)) {
      assert.equal(batch[0], lines[0]);
      break;
    }
    let count = 0;
    for await (const _ of readLines(path)) count++;
    assert.equal(count, lines.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
