/**
 * Failure and schema change alerts to a Slack-compatible incoming webhook, like dlt's
 * `send_slack_message(pipeline.runtime_config.slack_incoming_hook, ...)`.
 *
 * @module
 */

import { fetchFailure } from "../common/errors.ts";
import { redact } from "../common/redact.ts";
import { formatSchemaChanges } from "./load_info.ts";
import type { RunInfo } from "./run.ts";

/** Options of {@linkcode sendSchemaChangeAlert}. */
export interface SchemaChangeAlertOptions {
  /** The fetch used to POST. @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** How long the webhook may take to answer. @default {30000} */
  timeoutMs?: number;
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
  await postToWebhook(hook, text, { ...options, what: "schema change alert" });
  return true;
}

/**
 * POSTs a failure alert `{"text": "Pipeline <name> failed: <error>"}` to `hook`, like dlt's
 * alerts on a failed run. The error text is redacted.
 *
 * @example
 * ```ts
 * await sendFailureAlert("gitlab_pipeline", error, config.runtime.slack_incoming_hook!);
 * ```
 */
export async function sendFailureAlert(
  pipelineName: string,
  error: unknown,
  hook: string,
  options: SchemaChangeAlertOptions = {},
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  await postToWebhook(hook, redact(`Pipeline ${pipelineName} failed: ${message}`), {
    ...options,
    what: "failure alert",
  });
}

async function postToWebhook(
  hook: string,
  text: string,
  options: SchemaChangeAlertOptions & { what: string },
): Promise<void> {
  let response: Response;
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    // a webhook that never answers must not hold the run (and its trace) for ever
    response = await (options.fetch ?? fetch)(hook, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const why = e instanceof DOMException && e.name === "TimeoutError"
      ? `the webhook did not answer within ${timeoutMs / 1000} s`
      : fetchFailure(e);
    throw new Error(redact(`Cannot send the ${options.what}: ${why}`), { cause: e });
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new Error(`Cannot send the ${options.what}: the webhook answered ${response.status}`);
  }
}
