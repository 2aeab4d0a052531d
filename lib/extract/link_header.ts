/**
 * RFC 8288 `Link` header parsing, robust to the forms servers send: several links, commas and
 * semicolons inside `<…>`, quoted or bare `rel`, rel lists (`rel="next last"`), any case.
 *
 * @module
 */

/** One link of a `Link` header. */
export interface Link {
  /** The target as written (may be relative). */
  url: string;
  /** Lower-cased relation types. */
  rels: string[];
  /** All parameters, names lower-cased, values unquoted. */
  params: Record<string, string>;
}

/**
 * Parses a `Link` header value into its links.
 *
 * @example
 * ```ts
 * parseLinkHeader('<https://h/x?page=2>; rel="next", <https://h/x?page=9>; rel="last"')[0].url;
 * // "https://h/x?page=2"
 * ```
 */
export function parseLinkHeader(value: string | null | undefined): Link[] {
  const links: Link[] = [];
  if (!value) return links;
  let i = 0;
  const n = value.length;
  while (i < n) {
    const open = value.indexOf("<", i);
    if (open < 0) break;
    const close = value.indexOf(">", open + 1);
    if (close < 0) break;
    const url = value.slice(open + 1, close).trim();
    i = close + 1;
    const params: Record<string, string> = {};
    // Parameters: `; name=value` or `; name="quoted, value"` until a comma outside quotes.
    while (i < n) {
      while (i < n && (value[i] === " " || value[i] === "\t")) i++;
      if (value[i] === ",") {
        i++;
        break;
      }
      if (value[i] !== ";") {
        // Garbage: skip to the next link.
        const comma = value.indexOf(",", i);
        i = comma < 0 ? n : comma + 1;
        break;
      }
      i++;
      let eq = i;
      while (eq < n && !"=;,".includes(value[eq])) eq++;
      const name = value.slice(i, eq).trim().toLowerCase();
      i = eq;
      let paramValue = "";
      if (value[i] === "=") {
        i++;
        while (i < n && value[i] === " ") i++;
        if (value[i] === '"') {
          let j = i + 1;
          let out = "";
          while (j < n && value[j] !== '"') {
            if (value[j] === "\\" && j + 1 < n) j++;
            out += value[j];
            j++;
          }
          paramValue = out;
          i = j + 1;
        } else {
          let j = i;
          while (j < n && value[j] !== ";" && value[j] !== ",") j++;
          paramValue = value.slice(i, j).trim();
          i = j;
        }
      }
      if (name && !(name in params)) params[name] = paramValue;
    }
    const rels = (params.rel ?? "").toLowerCase().split(/\s+/).filter((r) => r !== "");
    links.push({ url, rels, params });
  }
  return links;
}

/**
 * The absolute URL of the first link with relation `rel` (case-insensitive), resolved against
 * `baseUrl` (the URL of the response), or `undefined`.
 *
 * @example
 * ```ts
 * const h = new Headers({ link: '</api/v4/projects?page=2>; rel="next"' });
 * findLink(h, "next", "https://gitlab.example.com/api/v4/projects");
 * // "https://gitlab.example.com/api/v4/projects?page=2"
 * ```
 */
export function findLink(headers: Headers, rel: string, baseUrl: string): string | undefined {
  const wanted = rel.toLowerCase();
  const link = parseLinkHeader(headers.get("link")).find((l) => l.rels.includes(wanted));
  if (!link || link.url === "") return undefined;
  try {
    return new URL(link.url, baseUrl).href;
  } catch {
    return undefined;
  }
}
