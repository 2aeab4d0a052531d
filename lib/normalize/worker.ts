/**
 * A normalize worker: normalizes the groups of extracted files the main thread posts (one
 * root table's files each) and posts back what each group did. Started by `normalize.ts`
 * when a package's root tables are normalized in parallel; `deno compile` embeds it with
 * `--include lib/normalize/worker.ts`.
 *
 * @module
 */

import { type GroupReply, type GroupRequest, runGroup } from "./group.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<GroupRequest>) => void) | null;
  postMessage: (message: GroupReply) => void;
};

scope.onmessage = async (event) => {
  let reply: GroupReply;
  try {
    reply = { ok: true, result: await runGroup(event.data) };
  } catch (e) {
    reply = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  scope.postMessage(reply);
};
