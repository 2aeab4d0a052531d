/**
 * Schema change alerts to a Slack-compatible incoming webhook, like dlt's
 * `send_slack_message(pipeline.runtime_config.slack_incoming_hook, ...)`.
 *
 * @module
 */

import { redact } from "../common/redact.ts";
import { formatSchemaChanges } from "./load_info.ts";
import type { RunInfo } from "./run.ts";

/** Options of {@linkcode sendSchemaChangeAlert}. */
export interface SchemaChangeAlertOptions {
  /** The fetch used to POST. @default {globalThis.fetch} */
  fetch?: typeof fetch;
}

/**
 * POSTs `{"text": ...}` with the run's schema changes (new tables, columns, variant columns)
 * to `hook`, when there are any. Returns whether a message was sent; throws with the hook
 * redacted when the webhook does not answer 2xx.
 *
 * @example
 * ```ts
 * await sendSchemaChangeAlert(info, config.runtime.slack_incoming_hook!);
 * ```
 */
export async function sendSchemaChangeAlert(
  info: RunInfo,
  hook: string,
  options: SchemaChangeAlertOptions = {},
): Promise<boolean> {
  const changes = formatSchemaChanges(info);
  if (!changes) return false;
  const text =
    `Pipeline ${info.pipelineName} changed the schema of dataset ${info.datasetName} (schema version ${info.schemaVersion}):\n${changes}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(hook, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
  } catch (e) {
    throw new Error(redact(`Cannot send the schema change alert: ${String(e)}`), { cause: e });
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new Error(`Cannot send the schema change alert: the webhook answered ${response.status}`);
  }
  return true;
}
