/**
 * Log levels of `[runtime] log_level` (dlt's names): which diagnostic lines reach stderr.
 *
 * @module
 */

const ORDER = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;

/** A log level name. */
export type LogLevel = typeof ORDER[number];

/**
 * Whether a line of `level` is shown when the configured level is `configured`.
 *
 * @example
 * ```ts
 * levelEnabled("WARNING", "INFO"); // false
 * levelEnabled("INFO", "WARNING"); // true
 * ```
 */
export function levelEnabled(configured: string, level: LogLevel): boolean {
  const at = ORDER.indexOf(configured.toUpperCase() as LogLevel);
  return ORDER.indexOf(level) >= (at < 0 ? ORDER.indexOf("WARNING") : at);
}

/** The level of a pipeline log line: `WARNING: …` lines are warnings, the rest information. */
export function levelOfLine(line: string): LogLevel {
  return /^(WARNING|ERROR|CRITICAL):/.exec(line)?.[1] as LogLevel | undefined ?? "INFO";
}
