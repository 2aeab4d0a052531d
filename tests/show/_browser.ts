/**
 * Drives the `gitlab-pg show` page in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core): navigate tables, open a child table, filter sample rows, read the load
 * history, take a screenshot. Run by show_test.ts as `deno run -A _browser.ts '<json>'`; exits
 * non-zero with the assertion message when the page is wrong.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

interface Expected {
  issues: number;
  labels: number;
  bugLabels: number;
}

async function checkPage(url: string, want: Expected, loadId: string, shot: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]");
    // the tree: issues with its row count, issues__labels nested under it
    const issuesLink = page.locator('#tree a[data-table="issues"]');
    assert.equal((await issuesLink.locator(".count").textContent())?.trim(), String(want.issues));
    assert.equal(
      await page.locator('#tree a[data-table="issues"] + ul a[data-table="issues__labels"]')
        .count(),
      1,
    );
    await issuesLink.click();
    await page.waitForSelector('[data-testid=table-name]:text-is("issues")');
    // open the child table from the parent's detail
    await page.locator('a[data-child="issues__labels"]').click();
    await page.waitForSelector('[data-testid=table-name]:text-is("issues__labels")');
    assert.equal(await page.locator("[data-testid=parent-link]").textContent(), "issues");
    await page.waitForSelector(`[data-testid=page-info]:has-text("of ${want.labels}")`);
    // filter the sample rows on the value column
    await page.selectOption("[data-testid=filter-column]", "value");
    await page.fill("[data-testid=filter]", "bug");
    await page.click("[data-testid=apply-filter]");
    await page.waitForSelector(`[data-testid=page-info]:has-text("of ${want.bugLabels}")`);
    const values = await page.locator("[data-testid=rows] tbody tr td:first-child")
      .allTextContents();
    assert.equal(values.length, Math.min(50, want.bugLabels));
    assert.ok(values.every((v) => v.toLowerCase().includes("bug")), values.join(","));
    await page.screenshot({ path: shot, fullPage: true });
    // the load history
    await page.click("nav button[data-tab=loads]");
    await page.waitForSelector("[data-testid=loads] tbody tr");
    const firstCell = await page.locator("[data-testid=loads] tbody tr td").first().textContent();
    assert.equal(firstCell, loadId);
    assert.equal(await page.locator("[data-testid=loads] tbody tr").count(), 1);
    // a malformed #fragment opens the first table instead of breaking the page
    const bad = await browser.newPage();
    bad.setDefaultTimeout(10_000);
    bad.on("pageerror", (e) => errors.push(String(e)));
    await bad.goto(`${url}#%E0%A4%A`);
    await bad.waitForSelector("body[data-ready=true]");
    assert.equal((await bad.locator("#error").textContent())?.trim(), "");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  const { url, want, loadId, shot } = JSON.parse(Deno.args[0]);
  await checkPage(url, want, loadId, shot);
}
