/**
 * A normalize worker: normalizes the groups of extracted files the main thread posts (one
 * root table's files each) and posts back what each group did, or follows a package while it
 * is extracted (`follow.ts`). Started by `normalize.ts` when a package's root tables are
 * normalized in parallel and by `follow.ts`; `deno compile` embeds it with
 * `--include lib/normalize/worker.ts`.
 *
 * @module
 */

import { followInWorker, type FollowReply, type FollowRequest } from "./follow.ts";
import { type GroupReply, type GroupRequest, runGroup } from "./group.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<GroupRequest | FollowRequest>) => void) | null;
  postMessage: (message: GroupReply | FollowReply) => void;
};

const follow = followInWorker((reply) => scope.postMessage(reply));

scope.onmessage = async (event) => {
  const request = event.data;
  if ("type" in request) return follow(request);
  let reply: GroupReply;
  try {
    reply = { ok: true, result: await runGroup(request) };
  } catch (e) {
    reply = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  scope.postMessage(reply);
};
