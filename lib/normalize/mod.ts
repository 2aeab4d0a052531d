/**
 * The normalize stage: dlt's relational normalizer, naming convention, type inference and
 * coercion, schema evolution and COPY job files.
 *
 * @example
 * ```ts
 * import { normalizePackage } from "./lib/normalize/mod.ts";
 * const info = await normalizePackage(storage, loadId);
 * console.log(info.rows);
 * ```
 *
 * @module
 */

export * from "./naming.ts";
export * from "./json_value.ts";
export * from "./infer.ts";
export * from "./ids.ts";
export * from "./relational.ts";
export * from "./evolve.ts";
export * from "./copy_format.ts";
export * from "./normalize.ts";
export {
  type ExtractFollower,
  followExtract,
  type FollowOptions,
  type TableProgress,
  tablesToTakeOver,
} from "./follow.ts";
