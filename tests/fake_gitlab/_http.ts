/**
 * What a route handler gets and returns, and the error it throws for GitLab error bodies.
 *
 * @module
 */

/** A response before it is written: JSON bodies are serialized by the server. */
export interface Reply {
  status: number;
  /** A JSON value, or a string sent as is (`text/plain`). */
  body: unknown;
  headers?: [string, string][];
}

/** A GitLab error response raised from inside a handler. */
export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: [string, string][];
  constructor(status: number, body: unknown, headers: [string, string][] = []) {
    super(typeof body === "string" ? body : JSON.stringify(body));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** `404 {"message":"404 <what> Not Found"}`. */
export function notFound(what: string): HttpError {
  return new HttpError(404, { message: `404 ${what} Not Found` });
}

/** `400 {"error":"<param> is invalid"}` (Grape's validation message). */
export function invalid(param: string): HttpError {
  return new HttpError(400, { error: `${param} is invalid` });
}

/** `400 {"error":"<param> does not have a valid value"}` (Grape's `values:` message). */
export function notValidValue(param: string): HttpError {
  return new HttpError(400, { error: `${param} does not have a valid value` });
}

/** `403 {"message":"403 Forbidden"}`. */
export function forbidden(): HttpError {
  return new HttpError(403, { message: "403 Forbidden" });
}

/** `401 {"message":"401 Unauthorized"}`. */
export function unauthorized(): HttpError {
  return new HttpError(401, { message: "401 Unauthorized" });
}
