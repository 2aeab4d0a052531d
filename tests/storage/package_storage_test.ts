import assert from "node:assert/strict";
import { join } from "node:path";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import {
  compareLoadIds,
  newLoadId,
  PackageStorage,
  parseJobFileName,
} from "../../lib/storage/package_storage.ts";

Deno.test("newLoadId() is dlt's str(time.time()) and strictly increasing", () => {
  const ids = Array.from({ length: 50 }, () => newLoadId(() => 1_700_000_000_000));
  for (const id of ids) assert.match(id, /^\d{10}\.\d+$/);
  for (let i = 1; i < ids.length; i++) assert.ok(compareLoadIds(ids[i - 1], ids[i]) < 0);
});

Deno.test("parseJobFileName() splits table, file id, retry and format", () => {
  assert.deepEqual(parseJobFileName("issues__labels.5ffad867fe.0.typed-jsonl"), {
    table: "issues__labels",
    fileId: "5ffad867fe",
    retry: 0,
    format: "typed-jsonl",
  });
});

Deno.test("PackageStorage moves packages between states and cleans up half-done work", async () => {
  const root = await Deno.makeTempDir();
  try {
    const s = new PackageStorage(root);
    const a = newLoadId();
    const b = newLoadId();
    const c = newLoadId();
    await s.create("extracting", a);
    await s.create("extracted", b);
    await s.create("normalizing", b);
    await s.create("extracted", c);
    await s.create("normalized", c);
    await s.cleanUp();
    assert.deepEqual(await s.list("extracting"), []);
    assert.deepEqual(await s.list("normalizing"), []);
    // c was already normalized: its extracted copy is gone; b stays extracted
    assert.deepEqual(await s.list("extracted"), [b]);
    await s.move(b, "extracted", "normalized");
    assert.deepEqual(await s.list("normalized"), [b, c]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("JobWriter.flush() has every line written so far on disk (buffers written behind)", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await new PackageStorage(root).create("normalizing", "1.6");
    const w = new JobWriter(dir, "t", "jsonl", { bufferBytes: 100 });
    const written: string[] = [];
    for (let round = 0; round < 5; round++) {
      // full buffers go to disk while the next lines are added: flush waits for all of them
      for (let i = 0; i < 300; i++) {
        written.push(`{"round":${round},"i":${i}}`);
        await w.write(written.at(-1)!);
      }
      await w.flush();
      const text = await Deno.readTextFile(w.files[0]);
      assert.deepEqual(text.trimEnd().split("\n"), written);
    }
    await w.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("JobWriter writes a header per file and rotates at the size limit", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await new PackageStorage(root).create("normalizing", "1.5");
    let headers = 0;
    const w = new JobWriter(dir, "t", "copy", {
      bufferBytes: 64,
      maxFileBytes: 1000,
      header: () => {
        headers++;
        return '["a"]';
      },
    });
    for (let i = 0; i < 500; i++) await w.write(`row${i}`);
    const files = await w.close();
    assert.ok(files.length > 1, "rotated into several files");
    assert.equal(headers, files.length);
    let rows = 0;
    for (const f of files) {
      const lines = (await Deno.readTextFile(f)).trimEnd().split("\n");
      assert.equal(lines[0], '["a"]');
      rows += lines.length - 1;
      assert.ok(f.startsWith(join(dir, "new_jobs", "t.")));
    }
    assert.equal(rows, 500);
    assert.equal(w.lines, 500);
    // readers take the files sorted by name: that must be the order they were written in
    const sorted = await new PackageStorage(root).jobs("normalizing", "1.5");
    assert.deepEqual(sorted, files);
    const rowsInNameOrder = (await Promise.all(sorted.map((f) => Deno.readTextFile(f))))
      .flatMap((text) => text.trimEnd().split("\n").slice(1));
    assert.deepEqual(rowsInNameOrder, Array.from({ length: 500 }, (_, i) => `row${i}`));
    for (const f of files) assert.match(f, /\/t\.[0-9a-f]{10}\.0\.copy$/, "dlt's 10-hex file id");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("JobWriter.adopt() takes a file of lines as its next file, in write order", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await new PackageStorage(root).create("normalizing", "1.6");
    const w = new JobWriter(dir, "t", "typed-jsonl", { bufferBytes: 16 });
    for (let i = 0; i < 10; i++) await w.write(`a${i}`);
    const outside = join(root, "spilled.lines");
    await Deno.writeTextFile(outside, "b0\nb1\n");
    const adopted = await w.adopt(outside);
    assert.equal(await Deno.stat(outside).catch(() => null), null, "moved, not copied");
    await w.write("c0");
    // two adoptions in a row: each its own file
    await Deno.writeTextFile(outside, "d0\n");
    await w.adopt(outside);
    await Deno.writeTextFile(outside, "e0\n");
    await w.adopt(outside);
    const files = await w.close();
    assert.equal(files.length, 5);
    assert.equal(files[1], adopted);
    const sorted = await new PackageStorage(root).jobs("normalizing", "1.6");
    assert.deepEqual(sorted, files, "names sort in the order the files came");
    const lines = (await Promise.all(sorted.map((f) => Deno.readTextFile(f)))).join("");
    const a = Array.from({ length: 10 }, (_, i) => `a${i}\n`).join("");
    assert.equal(lines, `${a}b0\nb1\nc0\nd0\ne0\n`);
    // files with a header line cannot take a file without one
    const copy = new JobWriter(dir, "u", "copy", { header: () => "[]" });
    await Deno.writeTextFile(outside, "x\n");
    await assert.rejects(() => copy.adopt(outside), /header/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
