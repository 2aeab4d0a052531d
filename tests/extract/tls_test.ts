/**
 * TLS stays verified: a GitLab whose certificate is not trusted fails at once (no retries) with
 * a message that says what to do, and DENO_CERT (the remedy it names) makes a private CA trusted.
 * Certificates are made with openssl for each run: a CA, and a server certificate it signs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { HttpError } from "../../lib/common/errors.ts";
import { HttpClient } from "../../lib/extract/http_client.ts";

const hasOpenssl = await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

/** A CA and a certificate for 127.0.0.1 signed by it, in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  await openssl(
    dir,
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=Test CA"],
    ...["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
  );
  await openssl(
    dir,
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"],
    ...["-keyout", "key.pem", "-out", "server.csr"],
  );
  await Deno.writeTextFile(
    join(dir, "ext.cnf"),
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await openssl(
    dir,
    ...["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key"],
    ...["-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf"],
  );
}

Deno.test({
  name: "an untrusted TLS certificate fails at once, naming DENO_CERT, which then trusts the CA",
  ignore: !hasOpenssl,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await makeCertificates(dir);
      await using server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        cert: await Deno.readTextFile(join(dir, "cert.pem")),
        key: await Deno.readTextFile(join(dir, "key.pem")),
        onListen() {},
      }, () => Response.json([{ id: 1 }]));
      const base = `https://127.0.0.1:${server.addr.port}`;
      const client = new HttpClient({ baseUrl: base, source: { api_key: "glpat-x" } });
      const err = await client.request({ url: "projects" }, { resource: "projects" })
        .catch((e) => e);
      assert.ok(err instanceof HttpError, String(err));
      assert.match(
        err.message,
        /^Cannot fetch resource "projects": the TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted \(.*invalid peer certificate.*\)\. .*point DENO_CERT at the CA's PEM file/,
      );
      assert.equal(client.stats.requests, 1, "not retried");
      // the remedy: the same request in a process started with DENO_CERT=<the CA>
      const script = join(dir, "fetch.ts");
      await Deno.writeTextFile(
        script,
        `import { HttpClient } from ${
          JSON.stringify(new URL("../../lib/extract/http_client.ts", import.meta.url).href)
        };
const c = new HttpClient({ baseUrl: ${JSON.stringify(base)}, source: { api_key: "glpat-x" } });
console.log(JSON.stringify((await c.request({ url: "projects" }))?.body));`,
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", script],
        env: { DENO_CERT: join(dir, "ca.pem") },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout).trim(), '[{"id":1}]');
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("https on a plain HTTP port and a port fetch refuses fail at once, saying what to change", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json([{ id: 1 }]),
  );
  const plain = new HttpClient({
    baseUrl: `https://127.0.0.1:${server.addr.port}/api/v4`,
    source: { api_key: "glpat-x" },
  });
  const err = await plain.request({ url: "projects" }, { resource: "projects" }).catch((e) => e);
  assert.ok(err instanceof HttpError, String(err));
  assert.match(
    err.message,
    /^Cannot fetch resource "projects": https:\/\/127\.0\.0\.1:\d+ answered in plain HTTP, not TLS \(.*\): if that is your GitLab's address, set sources\.gitlab\.base_url to http:\/\/127\.0\.0\.1:\d+\/…/,
  );
  assert.equal(plain.stats.requests, 1, "not retried");
  // the same server over http answers
  const fixed = new HttpClient({
    baseUrl: `http://127.0.0.1:${server.addr.port}/api/v4`,
    source: { api_key: "glpat-x" },
  });
  assert.deepEqual((await fixed.request({ url: "projects" }))?.body, [{ id: 1 }]);

  const blocked = new HttpClient({ baseUrl: "http://127.0.0.1:1/api/v4", source: {} });
  const refused = await blocked.request({ url: "projects" }).catch((e) => e);
  assert.ok(refused instanceof HttpError, String(refused));
  assert.match(refused.message, /port 1 are blocked: give GitLab's address with another port$/);
  assert.equal(blocked.stats.requests, 1, "not retried");
});
