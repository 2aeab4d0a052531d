/**
 * Responses of injected faults: error statuses with realistic bodies, truncated bodies.
 *
 * @module
 */

import type { TruncateFault } from "./faults.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const STATUS_TEXT: Record<number, string> = {
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The response of a `status` fault, with GitLab-like default bodies. */
export function faultReply(
  status: number,
  extra: Record<string, string> = {},
  body?: string,
): Response {
  const text = STATUS_TEXT[status] ?? "Error";
  let content = body;
  let type = "application/json";
  if (content === undefined) {
    if (status === 429) content = "Retry later\n";
    else if (status >= 502 && status <= 504) {
      content = `<html><body><h1>${status} ${text}</h1></body></html>\n`;
    } else content = JSON.stringify({ message: `${status} ${text}` });
  }
  if (!content.startsWith("{") && !content.startsWith("[")) {
    type = content.startsWith("<") ? "text/html" : "text/plain";
  }
  return new Response(content, { status, headers: { "content-type": type, ...extra } });
}

/** The error that cuts a truncated body (kept out of the error log). */
export class TruncatedByFault extends Error {
  constructor() {
    super("Body truncated by an injected fault");
  }
}

/** The real response with its body cut, as a `truncate` fault asks. */
export function truncated(response: Response, text: string, fault: TruncateFault): Response {
  const bytes = new TextEncoder().encode(text);
  const cut = bytes.subarray(0, Math.floor(bytes.length * (fault.fraction ?? 0.5)));
  const headers = new Headers(response.headers);
  if ((fault.mode ?? "abort") === "short") {
    headers.set("content-length", String(cut.length));
    return new Response(cut, { status: response.status, headers });
  }
  headers.set("content-length", String(bytes.length));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(cut);
    },
    async pull(controller) {
      await sleep(5);
      controller.error(new TruncatedByFault());
    },
  });
  return new Response(body, { status: response.status, headers });
}
