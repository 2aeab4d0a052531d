/**
 * dlt's stored schema (engine 11) as TypeScript types.
 *
 * @module
 */

/** dlt data types of engine 11. */
export type DataType =
  | "text"
  | "double"
  | "bool"
  | "timestamp"
  | "bigint"
  | "binary"
  | "json"
  | "decimal"
  | "wei"
  | "date"
  | "time";

/** One column with its hints. Key order matters: it is kept in the export. */
export interface Column {
  name: string;
  data_type?: DataType;
  nullable?: boolean;
  precision?: number;
  scale?: number;
  timezone?: boolean;
  description?: string;
  primary_key?: boolean;
  merge_key?: boolean;
  unique?: boolean;
  row_key?: boolean;
  parent_key?: boolean;
  root_key?: boolean;
  variant?: boolean;
  incremental?: boolean;
  hard_delete?: boolean;
  dedup_sort?: string;
  [hint: string]: unknown;
}

/** One table. Root tables have `write_disposition` and `resource`; nested ones `parent`. */
export interface Table {
  name: string;
  columns: Record<string, Column>;
  write_disposition?: "skip" | "append" | "replace" | "merge";
  resource?: string;
  parent?: string;
  description?: string;
  schema_contract?: unknown;
  file_format?: string;
  "x-normalizer"?: Record<string, unknown>;
  "x-merge-strategy"?: string;
  [key: string]: unknown;
}

/** The stored schema document. */
export interface StoredSchema {
  version: number;
  version_hash: string;
  engine_version: number;
  name: string;
  tables: Record<string, Table>;
  settings: {
    detections?: string[];
    default_hints?: Record<string, string[]>;
    preferred_types?: Record<string, DataType>;
    schema_contract?: unknown;
  };
  normalizers: {
    names: string;
    json: { module: string; config?: Record<string, unknown> };
  };
  previous_hashes: string[];
  description?: string;
}
