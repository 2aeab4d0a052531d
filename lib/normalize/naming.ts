/**
 * dlt's snake_case naming convention, as used by the normalizer. The implementation lives in
 * `lib/schema/naming.ts` because the schema normalizes hints with it too, and imports only go
 * from normalize to schema.
 *
 * @module
 */

export {
  breakPath,
  EMPTY_KEY_IDENTIFIER,
  identifierTag,
  makePath,
  normalizeIdentifier,
  normalizePath,
  normalizeTableIdentifier,
  normalizeTablesPath,
  shortenFragments,
  shortenIdentifier,
} from "../schema/naming.ts";
