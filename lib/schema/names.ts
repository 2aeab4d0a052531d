/**
 * Every `_dlt_*` name and dlt constant in one place (dlt `common/schema/typing.py`).
 *
 * @module
 */

/** Schema engine version written to `_dlt_version` and the exported schema. */
export const SCHEMA_ENGINE_VERSION = 11;
/** Pipeline state engine version (`_state_engine_version`). */
export const STATE_ENGINE_VERSION = 4;

export const VERSION_TABLE = "_dlt_version";
export const LOADS_TABLE = "_dlt_loads";
export const STATE_TABLE = "_dlt_pipeline_state";

export const C_DLT_ID = "_dlt_id";
export const C_DLT_LOAD_ID = "_dlt_load_id";
export const C_DLT_PARENT_ID = "_dlt_parent_id";
export const C_DLT_ROOT_ID = "_dlt_root_id";
export const C_DLT_LIST_IDX = "_dlt_list_idx";

/** Separator of flattened paths and nested table names. */
export const PATH_SEPARATOR = "__";
/** Format of variant columns: `<col>__v_<type>`. */
export const VARIANT_PREFIX = "v_";
/** Length in bytes of a `_dlt_id` before base64 (14 base64 chars). */
export const DLT_ID_LENGTH_BYTES = 10;
/** Postgres identifier limit used to shorten names. */
export const MAX_IDENTIFIER_LENGTH = 63;
/** Default staging dataset layout. */
export const STAGING_DATASET_SUFFIX = "_staging";
/** Name of the json normalizer module written in the schema. */
export const JSON_NORMALIZER_MODULE = "dlt.common.normalizers.json.relational";
