/**
 * The `gitlab-pg show` page: one HTML document with inline CSS and JavaScript, no build step
 * and no CDN, so it ships inside the binary as a string. It reads the server's `/api/`.
 *
 * @module
 */

/** The whole page. */
export const SHOW_PAGE: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gitlab-pg show</title>
<style>
  :root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --accent:#0969da; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, sans-serif; color:var(--fg); }
  header { padding:10px 16px; border-bottom:1px solid var(--line); display:flex; gap:16px;
    align-items:baseline; flex-wrap:wrap; }
  header h1 { font-size:16px; margin:0; }
  header .meta { color:var(--muted); }
  nav { display:flex; gap:4px; padding:0 16px; border-bottom:1px solid var(--line); }
  nav button { border:0; background:none; padding:8px 12px; cursor:pointer; font:inherit;
    border-bottom:2px solid transparent; }
  nav button[aria-selected=true] { border-bottom-color:var(--accent); font-weight:600; }
  main { padding:12px 16px; }
  .cols { display:flex; gap:16px; align-items:flex-start; }
  #tree { min-width:260px; max-width:340px; border:1px solid var(--line); border-radius:6px;
    padding:6px 0; }
  #tree ul { list-style:none; margin:0; padding-left:14px; }
  #tree > ul { padding-left:4px; }
  #tree a { display:flex; justify-content:space-between; gap:8px; padding:2px 8px;
    color:var(--fg); text-decoration:none; border-radius:4px; }
  #tree a:hover, #tree a.active { background:var(--bg); }
  #tree a.active { font-weight:600; }
  #tree .count { color:var(--muted); font-variant-numeric:tabular-nums; }
  #tree .sys { color:var(--muted); }
  #detail { flex:1; min-width:0; }
  table.grid { border-collapse:collapse; width:100%; font-size:13px; }
  table.grid th, table.grid td { border:1px solid var(--line); padding:3px 6px; text-align:left;
    vertical-align:top; max-width:360px; overflow:hidden; text-overflow:ellipsis;
    white-space:nowrap; }
  table.grid th { background:var(--bg); position:sticky; top:0; }
  .scroll { overflow:auto; max-height:60vh; border:1px solid var(--line); }
  .toolbar { display:flex; gap:8px; align-items:center; margin:8px 0; flex-wrap:wrap; }
  .muted { color:var(--muted); }
  pre { background:var(--bg); padding:8px; border-radius:6px; overflow:auto; max-height:70vh; }
  .error { color:#cf222e; }
  details { margin:6px 0; }
  code.type { color:var(--muted); }
</style>
</head>
<body>
<header>
  <h1>gitlab-pg</h1>
  <span class="meta" id="overview" data-testid="overview">loading…</span>
</header>
<nav role="tablist">
  <button role="tab" data-tab="tables" aria-selected="true">Tables</button>
  <button role="tab" data-tab="loads" aria-selected="false">Loads</button>
  <button role="tab" data-tab="schema" aria-selected="false">Schema</button>
  <button role="tab" data-tab="state" aria-selected="false">State</button>
</nav>
<main>
  <section id="tab-tables" data-testid="tab-tables">
    <div class="cols">
      <div id="tree" data-testid="tree"></div>
      <div id="detail" data-testid="detail"><p class="muted">Choose a table.</p></div>
    </div>
  </section>
  <section id="tab-loads" data-testid="tab-loads" hidden></section>
  <section id="tab-schema" data-testid="tab-schema" hidden></section>
  <section id="tab-state" data-testid="tab-state" hidden></section>
  <p id="error" class="error" role="alert"></p>
</main>
<script>
"use strict";
const $ = (sel) => document.querySelector(sel);
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) e.append(c instanceof Node ? c : String(c));
  return e;
}
// the access token of the printed address, sent with every request (no cookie: a cookie of
// 127.0.0.1 would also go to the other servers of the machine)
const TOKEN = new URLSearchParams(location.search).get("token") || "";
async function api(path) {
  const res = await fetch(path, { headers: { authorization: "Bearer " + TOKEN } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}
function showError(e) { $("#error").textContent = e ? String(e.message || e) : ""; }
function cell(v) {
  if (v === null || v === undefined) return el("td", { class: "muted" }, "∅");
  const text = typeof v === "object" ? JSON.stringify(v) : String(v);
  return el("td", { title: text }, text);
}
function grid(columns, rows, testid) {
  return el("div", { class: "scroll" }, el("table", { class: "grid", "data-testid": testid },
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map(cell))))));
}

let tables = [];
const view = { table: null, offset: 0, limit: 50, filter: "", column: "" };

function renderTree() {
  const byParent = new Map();
  for (const t of tables) {
    const k = t.parent || "";
    if (!byParent.has(k)) byParent.set(k, []);
    byParent.get(k).push(t);
  }
  const list = (parent) => el("ul", {}, (byParent.get(parent) || []).map((t) =>
    el("li", {},
      el("a", { href: "#" + encodeURIComponent(t.name), "data-table": t.name,
        class: (t.system ? "sys " : "") + (t.name === view.table ? "active" : ""),
        onclick: (ev) => { ev.preventDefault(); openTable(t.name); } },
        el("span", {}, t.name), el("span", { class: "count" }, t.rows.toLocaleString("en-US"))),
      byParent.has(t.name) ? list(t.name) : "")));
  const tree = $("#tree");
  tree.replaceChildren(list(""));
}

async function openTable(name) {
  if (view.table !== name) Object.assign(view, { table: name, offset: 0, filter: "", column: "" });
  location.hash = encodeURIComponent(name);
  renderTree();
  const t = tables.find((x) => x.name === name);
  const detail = $("#detail");
  const children = tables.filter((x) => x.parent === name);
  const filter = el("input", { type: "search", placeholder: "filter rows…", value: view.filter,
    "data-testid": "filter", "aria-label": "Filter rows" });
  const column = el("select", { "data-testid": "filter-column", "aria-label": "Filter column" },
    el("option", { value: "" }, "any column"),
    t.columns.map((c) => el("option", { value: c.name }, c.name)));
  column.value = view.column;
  const apply = () => { view.filter = filter.value; view.column = column.value; view.offset = 0;
    loadRows(); };
  filter.addEventListener("keydown", (ev) => { if (ev.key === "Enter") apply(); });
  filter.addEventListener("search", apply);
  detail.replaceChildren(
    el("h2", { "data-testid": "table-name" }, name),
    el("p", { class: "muted" },
      t.rows.toLocaleString("en-US") + " row(s)",
      t.parent ? " · child of " : "",
      t.parent ? el("a", { href: "#", "data-testid": "parent-link",
        onclick: (ev) => { ev.preventDefault(); openTable(t.parent); } }, t.parent) : "",
      t.write_disposition ? " · " + t.write_disposition : "",
      t.resource ? " · resource " + t.resource : ""),
    children.length ? el("p", {}, "Child tables: ", children.map((c, i) => [i ? ", " : "",
      el("a", { href: "#", "data-child": c.name,
        onclick: (ev) => { ev.preventDefault(); openTable(c.name); } }, c.name)])) : "",
    el("details", {}, el("summary", {}, t.columns.length + " column(s)"),
      grid(["column", "type"], t.columns.map((c) => [c.name, c.type]), "columns")),
    el("div", { class: "toolbar" }, filter, column,
      el("button", { onclick: apply, "data-testid": "apply-filter" }, "Filter"),
      el("button", { "data-testid": "prev", onclick: () => {
        view.offset = Math.max(0, view.offset - view.limit); loadRows(); } }, "‹ Prev"),
      el("button", { "data-testid": "next", onclick: () => {
        view.offset += view.limit; loadRows(); } }, "Next ›"),
      el("span", { class: "muted", "data-testid": "page-info" }, "")),
    el("div", { id: "rows" }));
  await loadRows();
}

async function loadRows() {
  showError();
  const q = new URLSearchParams({ offset: view.offset, limit: view.limit, filter: view.filter,
    column: view.column });
  try {
    const r = await api("/api/tables/" + encodeURIComponent(view.table) + "/rows?" + q);
    if (r.offset >= r.total && r.total > 0 && view.offset > 0) {
      view.offset = Math.max(0, r.total - (r.total % view.limit || view.limit));
      return loadRows();
    }
    const last = Math.min(r.offset + r.rows.length, r.total);
    $("[data-testid=page-info]").textContent = r.total
      ? "rows " + (r.offset + 1) + "–" + last + " of " + r.total
      : "no rows" + (view.filter ? " match" : "");
    $("#rows").replaceChildren(grid(r.columns, r.rows, "rows"));
  } catch (e) { showError(e); }
}

async function showLoads() {
  const { loads } = await api("/api/loads");
  const cols = ["load_id", "schema_name", "status", "inserted_at", "schema_version_hash"];
  $("#tab-loads").replaceChildren(el("h2", {}, "Load history (_dlt_loads)"),
    el("p", { class: "muted", "data-testid": "loads-count" }, loads.length + " load(s)"),
    grid(cols, loads.map((l) => cols.map((c) => l[c])), "loads"));
}

async function showSchema() {
  const { versions, schemas } = await api("/api/schema");
  const cols = ["version", "engine_version", "inserted_at", "schema_name", "version_hash"];
  $("#tab-schema").replaceChildren(el("h2", {}, "Schema versions (_dlt_version)"),
    grid(cols, versions.map((v) => cols.map((c) => v[c])), "versions"),
    schemas.map((s) => [el("h3", {}, "Schema " + s.name + " v" + s.version),
      el("pre", { "data-testid": "schema-json" }, JSON.stringify(s, null, 2))]));
}

async function showState() {
  const { state, history } = await api("/api/state");
  const cols = ["version", "pipeline_name", "created_at", "load_id"];
  $("#tab-state").replaceChildren(el("h2", {}, "Pipeline state"),
    el("pre", { "data-testid": "state-json" }, JSON.stringify(state, null, 2)),
    el("h3", {}, "History (_dlt_pipeline_state)"),
    grid(cols, history.map((h) => cols.map((c) => h[c])), "state-history"));
}

const loaders = { loads: showLoads, schema: showSchema, state: showState };
async function selectTab(name) {
  showError();
  for (const b of document.querySelectorAll("nav button")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === name));
  }
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== "tab-" + name;
  try { if (loaders[name]) await loaders[name](); } catch (e) { showError(e); }
}
for (const b of document.querySelectorAll("nav button")) {
  b.addEventListener("click", () => selectTab(b.dataset.tab));
}

(async () => {
  try {
    const o = await api("/api/overview");
    $("#overview").textContent = "pipeline " + o.pipeline_name + " · dataset " + o.dataset_name +
      " · " + o.destination_type + " " + o.destination_location;
    tables = (await api("/api/tables")).tables;
    renderTree();
    let wanted = "";
    try { wanted = decodeURIComponent(location.hash.slice(1)); } catch { /* a bad #fragment */ }
    const first = tables.find((t) => t.name === wanted) || tables.find((t) => !t.system);
    if (first) await openTable(first.name);
    document.body.dataset.ready = "true";
  } catch (e) { showError(e); }
})();
</script>
</body>
</html>
`;
