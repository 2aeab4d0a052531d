/**
 * `gitlab-pg show`: a local web page to browse a loaded dataset (tables, parent→child tree,
 * sample rows with a filter, load history, schema versions, state), served by `Deno.serve`
 * on 127.0.0.1 with the page embedded in the program.
 *
 * @module
 */

export { type RowsOptions, ShowData, type ShowRows, type ShowTable } from "./data.ts";
export { SHOW_PAGE } from "./page.ts";
export { type ShowServer, type ShowServerOptions, startShowServer } from "./server.ts";
